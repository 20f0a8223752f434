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
import { randomBytes } from "node:crypto";
import { RUN_TOKEN_ENV } from "../util/worker-prefix";
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
    process.env[RUN_TOKEN_ENV] ??= randomBytes(3).toString("hex"); // workerMetricPrefix(): one token per run
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

/** The part of vitest's TestProject a globalSetup uses. */
export interface ProvidingProject {
  provide(key: "m3aggClusterId" | "m3aggRunToken", value: string): void;
}

/**
 * A vitest `globalSetup`: starts one cluster (with `reuse: true`, attaches to a kept one) before
 * any test file runs, `provide`s its id and a run token to every file, and removes it after the
 * run (a reuse-mode cluster is kept). Test files attach with `m3Test` from
 * "m3-aggregator-testcontainers/vitest". Import it from the main entry: a globalSetup file runs
 * outside any test file, where the vitest entry cannot load.
 *
 * @example
 * // vitest.config.mts: test: { globalSetup: ["./m3-setup.mts"] }
 * // m3-setup.mts
 * import { m3aggGlobalSetup } from "m3-aggregator-testcontainers";
 * export default m3aggGlobalSetup({ nodes: 4, rf: 2 });
 */
export function m3aggGlobalSetup(options: M3AggregatorClusterOptions = {}): (project: ProvidingProject) => Promise<() => Promise<void>> {
  return async (project) => {
    const cluster = await M3AggregatorCluster.start(options);
    project.provide("m3aggClusterId", cluster.getClusterId());
    project.provide("m3aggRunToken", randomBytes(3).toString("hex"));
    return async () => {
      await cluster.stop();
    };
  };
}
