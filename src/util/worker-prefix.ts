/**
 * Metric-id prefixes per test worker: test files that run in parallel on one shared cluster
 * build their ids on different prefixes, so none reads another's data.
 */
import { RUN_TOKEN_ENV, runTokenSetting, testWorkerId } from "../model/environment";

export { RUN_TOKEN_ENV };

/**
 * `<run token>.w<worker>.`: the worker is vitest's pool id (VITEST_POOL_ID) or jest's worker id
 * (JEST_WORKER_ID), "0" outside a runner; the token is `runToken`, else M3AGG_RUN_TOKEN, else "run".
 */
export function workerMetricPrefix(runToken?: string, env: NodeJS.ProcessEnv = process.env): string {
  return `${runToken || runTokenSetting(env) || "run"}.w${testWorkerId(env) ?? "0"}.`;
}
