/**
 * The test helpers bound to vitest's hooks, for vitest without `globals: true`:
 *
 * @example
 * import { useM3AggregatorCluster } from "m3-aggregator-testcontainers/vitest";
 * const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2 });
 *
 * An ES module (vitest is ESM-only); everything else of the package is CommonJS
 * and re-exported from here too, so one import path is enough.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, inject, test } from "vitest";
import * as cjs from "./index.js";
import type { ClusterHandle, M3AggregatorClusterOptions, StartedM3AggregatorCluster } from "./index.js";

declare module "vitest" {
  /** What {@link m3aggGlobalSetup} provides to every test file. */
  export interface ProvidedContext {
    /** Id of the cluster the globalSetup started (or attached to). */
    m3aggClusterId: string;
    /** A token of this run: part of every worker's metric-id prefix. */
    m3aggRunToken: string;
  }
}

// Node's ESM view of a CommonJS module: named exports when its lexer finds them, always `default`.
const pkg: typeof cjs = (cjs as unknown as { default?: typeof cjs }).default ?? cjs;

/** {@link cjs.useM3AggregatorCluster} with vitest's `beforeAll` / `afterAll`. */
export function useM3AggregatorCluster(options: M3AggregatorClusterOptions = {}): ClusterHandle {
  return pkg.useM3AggregatorCluster(options, { beforeAll, afterAll });
}

/** {@link cjs.useSharedM3AggregatorCluster} with vitest's `beforeAll` / `afterAll`. */
export function useSharedM3AggregatorCluster(): ClusterHandle {
  return pkg.useSharedM3AggregatorCluster({ beforeAll, afterAll });
}

/** The part of vitest's TestProject a globalSetup uses. */
interface ProvidingProject {
  provide(key: "m3aggClusterId" | "m3aggRunToken", value: string): void;
}

/**
 * A vitest `globalSetup`: starts one cluster (with `reuse: true`, attaches to a kept one) before
 * any test file runs, `provide`s its id to every file, and removes it after the run (a reuse-mode
 * cluster is kept). Tests attach with {@link m3Test} (or `attachCluster(inject("m3aggClusterId"))`).
 *
 * @example
 * // vitest.config.mts: test: { globalSetup: ["./m3-setup.mts"] }
 * // m3-setup.mts
 * import { m3aggGlobalSetup } from "m3-aggregator-testcontainers/vitest";
 * export default m3aggGlobalSetup({ nodes: 4, rf: 2 });
 */
export function m3aggGlobalSetup(options: M3AggregatorClusterOptions = {}): (project: ProvidingProject) => Promise<() => Promise<void>> {
  return async (project) => {
    const cluster = await pkg.M3AggregatorCluster.start(options);
    project.provide("m3aggClusterId", cluster.getId());
    project.provide("m3aggRunToken", randomBytes(3).toString("hex"));
    return async () => {
      await cluster.stop();
    };
  };
}

/** Fixtures of {@link m3Test}. */
export interface M3TestFixtures {
  /** The shared cluster, attached once per worker. */
  m3: StartedM3AggregatorCluster;
  /**
   * A metric-id prefix of this worker in this run (`<run token>.w<pool id>.`): parallel test files
   * run in different workers, so ids built on it never collide with another file's.
   */
  metricPrefix: string;
}

/**
 * vitest's `test`, extended with the cluster of {@link m3aggGlobalSetup} (attached once per
 * worker) and a per-worker metric-id prefix. Call `m3.reset()` in `beforeEach` when tests change
 * the cluster (stop nodes, inject faults).
 *
 * @example
 * import { m3Test } from "m3-aggregator-testcontainers/vitest";
 * m3Test("two shard sets have a leader", async ({ m3, metricPrefix }) => {
 *   expect((await m3.leaders()).size).toBe(2);
 * });
 */
export const m3Test = test.extend<M3TestFixtures>({
  m3: [async ({}, use) => { // eslint-disable-line no-empty-pattern -- vitest reads the fixtures a function destructures
    const id = inject("m3aggClusterId");
    if (typeof id !== "string" || id === "") {
      throw new Error("no cluster was provided: add m3aggGlobalSetup(...) to vitest's test.globalSetup");
    }
    await use(await pkg.attachCluster(id));
  }, { scope: "worker" }],
  metricPrefix: [async ({}, use) => { // eslint-disable-line no-empty-pattern
    await use(pkg.workerMetricPrefix(inject("m3aggRunToken")));
  }, { scope: "worker" }],
});

// The rest of the API (Node finds the CommonJS named exports of tsc's output); the two
// helpers above shadow the star export's hook-less versions.
export * from "./index.js";
