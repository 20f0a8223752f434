// The README's first example, as a user writes it: only the package name is imported.
import { useM3AggregatorCluster } from "m3-aggregator-testcontainers";

const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2 }); // beforeAll: start, afterAll: remove

test("one leader per shard set", async () => {
  const leaders = await m3.cluster.leaders();
  expect(leaders.size).toBe(2); // 4 nodes / rf 2
  expect([...leaders.values()].every(Boolean)).toBe(true);
  const endpoints = m3.cluster.nodes.map((n) => n.getTcpEndpoint());
  expect(endpoints).toHaveLength(4);
  for (const endpoint of endpoints) expect(endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
});
