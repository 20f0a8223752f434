// vitest with globals: true: the main entry's helper finds vitest's global hooks.
import { useM3AggregatorCluster } from "m3-aggregator-testcontainers";

const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2 });

test("the cluster started in vitest's global beforeAll", async () => {
  const leaders = await m3.cluster.leaders();
  expect([...leaders.keys()]).toEqual([1]);
  expect(m3.cluster.nodes.map((n) => n.id)).toContain(leaders.get(1));
});
