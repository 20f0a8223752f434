/**
 * Metric-id prefixes per test worker: test files that run in parallel on one shared cluster
 * build their ids on different prefixes, so none reads another's data.
 */

/** Env var a shared-cluster setup sets to one token per run (jest's globalSetup does). */
export const RUN_TOKEN_ENV = "M3AGG_RUN_TOKEN";

/**
 * `<run token>.w<worker>.`: the worker is vitest's pool id (VITEST_POOL_ID) or jest's worker id
 * (JEST_WORKER_ID), "0" outside a runner; the token is `runToken`, else M3AGG_RUN_TOKEN, else "run".
 */
export function workerMetricPrefix(runToken?: string, env: NodeJS.ProcessEnv = process.env): string {
  const worker = env.VITEST_POOL_ID || env.JEST_WORKER_ID || "0";
  const token = runToken || env[RUN_TOKEN_ENV] || "run";
  return `${token}.w${worker}.`;
}
