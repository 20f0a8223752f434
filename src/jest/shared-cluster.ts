/**
 * One cluster shared by every test file of a jest run: started once in
 * globalSetup, attached to (by label) from each test file, removed in
 * globalTeardown. Only the cluster id crosses the process boundary, through
 * the environment that jest's workers inherit.
 *
 * @example
 * // jest.config.ts: globalSetup: "./test/global-setup.ts", globalTeardown: "./test/global-teardown.ts"
 * // test/global-setup.ts
 * export default sharedClusterSetup({ nodes: 4, rf: 2 });
 * // test/global-teardown.ts
 * export { sharedClusterTeardown as default } from "m3-aggregator-testcontainers";
 * // any test file
 * const m3 = useSharedM3AggregatorCluster();
 */
import { M3AggregatorCluster } from "../cluster/start";
import { type StartedM3AggregatorCluster } from "../cluster/started";
import { type ClusterHandle, globalSuiteHooks, type SuiteHooks } from "./helper";
import type { M3AggregatorClusterOptions } from "../model/options";

/** Env var carrying the shared cluster's id from globalSetup to the test workers. */
export const SHARED_CLUSTER_ENV = "M3AGG_SHARED_CLUSTER_ID";
const SHARED_REUSE_ENV = "M3AGG_SHARED_CLUSTER_REUSED";

/** A jest globalSetup function that starts (or, with reuse, attaches to) the shared cluster. */
export function sharedClusterSetup(options: M3AggregatorClusterOptions = {}): () => Promise<void> {
  return async () => {
    const cluster = await M3AggregatorCluster.start(options);
    process.env[SHARED_CLUSTER_ENV] = cluster.getClusterId();
    process.env[SHARED_REUSE_ENV] = cluster.options.reuseKey === undefined ? "" : "1";
  };
}

/** A jest globalTeardown function: removes the shared cluster (kept in reuse mode). */
export async function sharedClusterTeardown(): Promise<void> {
  const id = process.env[SHARED_CLUSTER_ENV];
  if (id !== undefined && process.env[SHARED_REUSE_ENV] !== "1") await M3AggregatorCluster.remove(id);
}

/**
 * Attaches to the shared cluster in beforeAll; never stops it (globalTeardown does).
 * `hooks` as for {@link useM3AggregatorCluster}.
 */
export function useSharedM3AggregatorCluster(hooks: SuiteHooks = globalSuiteHooks()): ClusterHandle {
  let cluster: StartedM3AggregatorCluster | undefined;
  hooks.beforeAll(async () => {
    const id = process.env[SHARED_CLUSTER_ENV];
    if (id === undefined) throw new Error(`${SHARED_CLUSTER_ENV} is not set: add sharedClusterSetup(...) as jest's globalSetup`);
    cluster = await M3AggregatorCluster.attach(id);
  }, 60_000);
  return {
    get cluster(): StartedM3AggregatorCluster {
      if (cluster === undefined) throw new Error("the shared cluster is not attached (did beforeAll fail?)");
      return cluster;
    },
  };
}
