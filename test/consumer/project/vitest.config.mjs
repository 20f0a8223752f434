import { defineConfig } from "vitest/config";

// globals: true so that vitest/globals.test.ts can use the main entry's helper (global hooks);
// vitest/entry.test.ts uses the explicit "m3-aggregator-testcontainers/vitest" entry.
export default defineConfig({
  test: { include: ["vitest/**/*.test.ts"], globals: true, fileParallelism: false, testTimeout: 60_000, hookTimeout: 240_000 },
});
