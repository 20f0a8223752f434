// The README's first example under vitest, through the explicit vitest entry.
import { expect, test } from "vitest";
import * as main from "m3-aggregator-testcontainers";
import { M3AggregatorCluster, useM3AggregatorCluster } from "m3-aggregator-testcontainers/vitest";

const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2 });

test("one leader per shard set", async () => {
  const leaders = await m3.cluster.leaders();
  expect(leaders.size).toBe(2);
  expect([...leaders.values()].every(Boolean)).toBe(true);
  expect(m3.cluster.nodes.map((n) => n.getTcpEndpoint()).every((e) => /^127\.0\.0\.1:\d+$/.test(e))).toBe(true);
});

test("the vitest entry re-exports the rest of the API (the same classes as the main entry)", () => {
  expect(M3AggregatorCluster).toBe(main.M3AggregatorCluster);
  expect(useM3AggregatorCluster).not.toBe(main.useM3AggregatorCluster); // bound to vitest's hooks
});
