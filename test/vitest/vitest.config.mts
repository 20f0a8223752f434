import { defineConfig } from "vitest/config";

// The helpers under vitest (globals off, as vitest defaults). Run from the repo root:
// npx vitest run --config test/vitest/vitest.config.mts
export default defineConfig({
  test: {
    include: ["test/vitest/**/*.vitest.ts"],
    globals: false,
    fileParallelism: false, // one cluster at a time on 2 cores, like jest's maxWorkers: 1
    testTimeout: 30_000,
    hookTimeout: 240_000,
  },
});
