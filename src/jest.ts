/**
 * Jest helper: one cluster per describe block (or file), started in
 * beforeAll and always removed in afterAll.
 */
import { M3AggregatorCluster, type StartedM3AggregatorCluster } from "./cluster";
import { failuresSoFar } from "./jest-failure-counter";
import { DEFAULTS, type M3AggregatorClusterOptions } from "./options";

/** Access to the cluster of {@link useM3AggregatorCluster}. */
export interface ClusterHandle {
  /** The started cluster; throws if beforeAll has not finished successfully. */
  readonly cluster: StartedM3AggregatorCluster;
}

/**
 * Registers beforeAll (start; timeout = startTimeoutMs + 30 s) and afterAll
 * (stop). Options are validated right here, while jest collects tests, so a
 * bad option fails the file at once. With the fixture's jest environment
 * (`testEnvironment: "m3-aggregator-testcontainers/jest-environment"`), when
 * a test or hook failed, afterAll first writes every container's log to
 * `.m3agg/logs/<clusterId>/` (also always with M3AGG_WRITE_LOGS=always).
 *
 * @example
 * const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2 });
 * test("leaders", async () => expect((await m3.cluster.leaders()).size).toBe(2));
 */
export function useM3AggregatorCluster(options: M3AggregatorClusterOptions = {}): ClusterHandle {
  const fixture = new M3AggregatorCluster(options);
  let started: StartedM3AggregatorCluster | undefined;
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULTS.startTimeoutMs;

  beforeAll(async () => {
    started = await fixture.start();
  }, startTimeoutMs + 30_000);

  afterAll(async () => {
    if (started === undefined) return;
    if (failuresSoFar() > 0 || process.env.M3AGG_WRITE_LOGS === "always") {
      console.log(`cluster ${started.id}: container logs written to ${started.writeLogs()}`);
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
