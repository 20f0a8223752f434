/**
 * Test-runner helper: one cluster per describe block (or file), started in
 * beforeAll and always removed in afterAll. Jest's globals by default; any
 * runner whose hooks have the same shape (vitest) through {@link SuiteHooks}.
 */
import { M3AggregatorCluster } from "../cluster/start";
import { writeLogsAlways } from "../model/environment";
import { type StartedM3AggregatorCluster } from "../cluster/started";
import { failuresSoFar } from "./failure-counter";
import { DEFAULTS } from "../cluster/options";
import { type M3AggregatorClusterOptions } from "../model/options";

/** Access to the cluster of {@link useM3AggregatorCluster}. */
export interface ClusterHandle {
  /** The started cluster; throws if beforeAll has not finished successfully. */
  readonly cluster: StartedM3AggregatorCluster;
}

/**
 * The two suite hooks the helpers register. Jest's and vitest's `beforeAll` /
 * `afterAll` have this shape: pass vitest's (`import { beforeAll, afterAll } from "vitest"`)
 * when its globals are off, or use `m3-aggregator-testcontainers/vitest`.
 */
export interface SuiteHooks {
  beforeAll(fn: () => Promise<void>, timeoutMs?: number): unknown;
  afterAll(fn: () => Promise<void>, timeoutMs?: number): unknown;
}

/**
 * The runner's global `beforeAll` / `afterAll` (jest; vitest with `globals: true`),
 * looked up when the helper is called, so nothing imports jest.
 */
export function globalSuiteHooks(): SuiteHooks {
  const g = globalThis as { beforeAll?: unknown; afterAll?: unknown };
  if (typeof g.beforeAll !== "function" || typeof g.afterAll !== "function") {
    throw new Error("no global beforeAll/afterAll: call the helper inside a test file of jest (or of vitest with " +
      "globals: true), import it from \"m3-aggregator-testcontainers/vitest\", or pass your runner's " +
      "{ beforeAll, afterAll } as its last argument");
  }
  return g as SuiteHooks;
}

/**
 * Registers beforeAll (start; timeout = startTimeoutMs + 30 s) and afterAll
 * (stop). Options are validated right here, while jest collects tests, so a
 * bad option fails the file at once. With the fixture's jest environment
 * (`testEnvironment: "m3-aggregator-testcontainers/jest-environment"`), when
 * a test or hook failed, afterAll first writes every container's log to
 * `.m3agg/logs/<clusterId>/` (also always with M3AGG_WRITE_LOGS=always).
 *
 * `hooks` defaults to the runner's globals ({@link globalSuiteHooks}).
 *
 * @example
 * const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2 });
 * test("leaders", async () => expect((await m3.cluster.leaders()).size).toBe(2));
 * @example
 * // vitest without globals
 * import { afterAll, beforeAll } from "vitest";
 * const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2 }, { beforeAll, afterAll });
 */
export function useM3AggregatorCluster(options: M3AggregatorClusterOptions = {}, hooks: SuiteHooks = globalSuiteHooks()): ClusterHandle {
  const fixture = new M3AggregatorCluster(options);
  let started: StartedM3AggregatorCluster | undefined;
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULTS.startTimeoutMs;

  hooks.beforeAll(async () => {
    started = await fixture.start();
  }, startTimeoutMs + 30_000);

  hooks.afterAll(async () => {
    if (started === undefined) return;
    if (failuresSoFar() > 0 || writeLogsAlways()) {
      console.log(`cluster ${started.getClusterId()}: container logs written to ${started.writeLogs()}`);
    }
    await started.stop();
  }, 60_000);

  return {
    get cluster(): StartedM3AggregatorCluster {
      if (started === undefined) throw new Error(`cluster ${fixture.options.clusterId} is not started (did its beforeAll fail?)`);
      return started;
    },
  };
}
