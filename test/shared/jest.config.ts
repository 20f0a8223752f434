import type { Config } from "jest";

// The shared-cluster recipe, run as its own jest project by the "shared cluster" test of test/integration/reuse.test.ts.
const config: Config = {
  rootDir: "../..",
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testMatch: ["<rootDir>/test/shared/*.shared.ts"],
  globalSetup: "<rootDir>/test/shared/global-setup.ts",
  globalTeardown: "<rootDir>/test/shared/global-teardown.ts",
  maxWorkers: 2,
};

export default config;
