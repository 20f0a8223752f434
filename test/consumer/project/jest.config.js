// As the README tells a user: ts-jest, the package's jest environment (logs on failure), one file at a time.
module.exports = {
  testEnvironment: "m3-aggregator-testcontainers/jest-environment",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testMatch: ["<rootDir>/jest/**/*.test.ts"],
  maxWorkers: 1,
  testTimeout: 60_000,
};
