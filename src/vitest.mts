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
import { afterAll, beforeAll, inject, test } from "vitest";
import * as cjs from "./index.js";
import type { ClusterHandle, M3AggregatorClusterOptions, StartedM3AggregatorCluster } from "./index.js";

declare module "vitest" {
  /** What `m3aggGlobalSetup` (main entry) provides to every test file. */
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
 * vitest's `test`, extended with the cluster of `m3aggGlobalSetup` (main entry; a globalSetup file
 * must not import this entry, which needs a running test file) (attached once per
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
