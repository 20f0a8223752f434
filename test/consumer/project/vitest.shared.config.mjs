import { defineConfig } from "vitest/config";

// The shared-cluster example (README "In vitest: one cluster for all files"): globalSetup starts one
// cluster, every file attaches with m3Test. Files run in parallel workers.
export default defineConfig({
  test: { include: ["vitest-shared/**/*.test.ts"], globalSetup: ["./vitest-shared/setup.mts"], testTimeout: 120_000, hookTimeout: 240_000 },
});
