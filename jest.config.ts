import type { Config } from "jest";

// Unit tests are fast and hermetic; integration tests start real clusters in Docker.
// Integration suites run one file at a time (--runInBand would also serialise unit tests),
// because 2 cores cannot start several clusters per worker quickly.
const config: Config = {
  // Counts failures so useM3AggregatorCluster can write cluster logs when a test failed.
  testEnvironment: "<rootDir>/src/jest/environment.ts",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  // test/shared is its own jest project (global setup), run by the "shared cluster" test of test/integration/reuse.test.ts;
  // test/consumer/project is a user's project that test/consumer/run.sh runs against the packed tarball.
  testPathIgnorePatterns: ["/node_modules/", "/test/shared/", "/test/consumer/"],
  maxWorkers: 1,
  testTimeout: 30_000,
  verbose: true,
};

export default config;
