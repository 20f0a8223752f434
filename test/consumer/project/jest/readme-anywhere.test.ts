// The README's "Anywhere" example: start, placement, sendLines, startupTimings, stop.
import { containersWithLabel, LABEL_CLUSTER, M3AggregatorCluster } from "m3-aggregator-testcontainers";

test("M3AggregatorCluster.start / stop", async () => {
  const cluster = await M3AggregatorCluster.start({ nodes: 4, rf: 2 });
  try {
    const placement = await cluster.placement();
    expect(Object.values(placement.instances).map((i) => i.endpoint).sort())
      .toEqual(cluster.nodes.map((n) => n.getTcpEndpoint()).sort());
    await cluster.sendLines(0, ["metric.test 123.45 1"]);
    const timings = cluster.startupTimings;
    expect(timings.total).toBeGreaterThan(0);
    expect(timings.total).toBeGreaterThanOrEqual(timings.etcd ?? 0);
  } finally {
    await cluster.stop();
  }
  expect(await containersWithLabel(LABEL_CLUSTER, cluster.getId())).toEqual([]);
}, 240_000);
