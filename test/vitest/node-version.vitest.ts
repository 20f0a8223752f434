// Runs on Node >= 22.22 only (importing the module on an older Node throws, which is its job;
// test/consumer/run.sh checks that error with the machine's old Node).
import { expect, test } from "vitest";
import { isSupportedNode } from "../../src/util/node-version";

test.each([
  ["20.20.2", false], ["v20.19.0", false], ["22.21.9", false], ["22.22.0", true], ["v22.22.1", true],
  ["23.0.0", true], ["24.21.0", true], ["v25.2.0", true],
])("Node %s supported: %s", (version, supported) => {
  expect(isSupportedNode(version)).toBe(supported);
});
