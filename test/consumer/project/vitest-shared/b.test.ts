// Another file on the same cluster: a test that stops a node, and reset() that undoes it.
import { expect } from "vitest";
import { m3Test } from "m3-aggregator-testcontainers/vitest";

m3Test("reset() brings a stopped node back and waits for a leader", async ({ m3 }) => {
  await m3.nodes[1]!.stop();
  const report = await m3.reset();
  expect(report.restored).toEqual([`${m3.nodes[1]!.id}: exited → running`]);
  expect(await m3.nodes[1]!.state()).toBe("running");
  expect((await m3.leaders()).get(1)).toMatch(/^m3aggregator0[12]$/);
});
