// A file of the shared-cluster example: m3Test attaches to the globalSetup's cluster once per worker.
import { expect } from "vitest";
import { m3Test } from "m3-aggregator-testcontainers/vitest";

m3Test("the shared cluster has one leader and a per-worker metric prefix", async ({ m3, metricPrefix }) => {
  expect(m3.attached).toBe(true); // started by the globalSetup, attached here
  expect((await m3.leaders()).size).toBe(1);
  expect(metricPrefix).toMatch(/^[0-9a-f]{6}\.w\d+\.$/);
});
