// A real cluster under vitest through the package's vitest entry (the one users import
// as "m3-aggregator-testcontainers/vitest").
import { expect, test } from "vitest";
import { containersWithLabel, LABEL_CLUSTER, useM3AggregatorCluster } from "../../src/vitest.mjs";

const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2 });

test("beforeAll started the cluster: one shard set, one leader, its placement endpoints on 127.0.0.1", async () => {
  const leaders = await m3.cluster.leaders();
  expect([...leaders.keys()]).toEqual([1]);
  expect(m3.cluster.nodes.map((n) => n.id)).toContain(leaders.get(1));
  const placement = await m3.cluster.placement();
  const endpoints = Object.values(placement.instances).map((i) => i.endpoint).sort();
  expect(endpoints).toEqual(m3.cluster.nodes.map((n) => n.getTcpEndpoint()).sort());
  expect(endpoints.every((e) => /^127\.0\.0\.1:\d+$/.test(e))).toBe(true);
  const containers = await containersWithLabel(LABEL_CLUSTER, m3.cluster.getId());
  expect(containers.filter((c) => c.state === "running")).toHaveLength(4); // etcd, coordinator, 2 nodes
});
