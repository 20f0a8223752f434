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

test("reset() after a test that paused a node: running again, one leader per shard set", async () => {
  const node = m3.cluster.nodes[2]!;
  await node.pause();
  const report = await m3.cluster.reset();
  expect(report.restored).toEqual([`${node.id}: paused → running`]);
  expect(report.election.every((set) => set.leader !== undefined)).toBe(true);
}, 120_000);
