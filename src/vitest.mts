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
import { afterAll, beforeAll } from "vitest";
import * as cjs from "./index.js";
import type { ClusterHandle, M3AggregatorClusterOptions } from "./index.js";

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

// The rest of the API (Node finds the CommonJS named exports of tsc's output); the two
// helpers above shadow the star export's hook-less versions.
export * from "./index.js";
