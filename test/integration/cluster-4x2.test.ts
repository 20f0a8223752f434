/**
 * The main path: 4 nodes, rf 2, started through the jest helper, checked
 * against Docker, the coordinator's placement and every node's own API.
 */
import { shardSetsOf } from "../../src/m3/placement";
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { clusterContainers, uniqueClusterId } from "./helpers";

const clusterId = uniqueClusterId("main");
const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2, clusterId });

describe("4 nodes, rf 2", () => {
  test("Docker runs etcd, the coordinator and 4 aggregators, all labelled with the cluster id", async () => {
    const components = (await clusterContainers(clusterId)).length;
    expect(components).toBe(6);
  });

  test("placement: 4 instances, endpoints = each node's raw TCP address, 2 shard sets of 2", async () => {
    const placement = await m3.cluster.placement();
    const instances = Object.values(placement.instances);
    expect(instances).toHaveLength(4);
    expect(Object.fromEntries(instances.map((i) => [i.id, i.endpoint]))).toEqual(
      Object.fromEntries(m3.cluster.nodes.map((n) => [n.id, `127.0.0.1:${n.getTcpPort()}`])));
    const sets = shardSetsOf(placement);
    expect([...sets.keys()]).toEqual([1, 2]);
    for (const members of sets.values()) expect(members).toHaveLength(2);
    expect(placement.numShards).toBe(64);
    expect(placement.replicaFactor).toBe(2);
    // Replicas of one shard set hold the same 64/2 shards, all cut over already.
    for (const members of sets.values()) {
      const shardIds = members.map((id) => placement.instances[id]!.shards.map((s) => s.id).join(","));
      expect(new Set(shardIds).size).toBe(1);
      expect(placement.instances[members[0]!]!.shards).toHaveLength(32);
    }
    expect(instances.flatMap((i) => i.shards).every((s) => s.cutoverNanos === "0")).toBe(true);
  });

  test("every node answers /health", async () => {
    const healthy = await Promise.all(m3.cluster.nodes.map((n) => n.api.isHealthy()));
    expect(healthy).toEqual([true, true, true, true]);
  });

  test("exactly one leader per shard set, the other replica a follower", async () => {
    const election = await m3.cluster.election();
    expect(election).toHaveLength(2);
    for (const set of election) {
      expect(set.members.filter((m) => m.electionState === "leader")).toHaveLength(1);
      expect(set.members.filter((m) => m.electionState === "follower")).toHaveLength(1);
      expect(set.leader).toBeDefined();
    }
    const leaders = [...(await m3.cluster.leaders()).values()];
    expect(new Set(leaders).size).toBe(2);
  });

  test("each node's raw TCP endpoint accepts a connection and a line", async () => {
    for (const node of m3.cluster.nodes) {
      const line = "metric.test 123.45 1700000000";
      await expect(m3.cluster.sendLines(node.id, [line])).resolves.toBe(line.length + 1);
    }
  });

  test("getters: distinct ports on 127.0.0.1, coordinator URL and etcd endpoint answer", async () => {
    const ports = m3.cluster.nodes.flatMap((n) => [n.getHttpPort(), n.getMetricsPort(), n.getTcpPort()]);
    expect(new Set(ports).size).toBe(12);
    expect(m3.cluster.nodes.map((n) => n.id)).toEqual(["m3aggregator01", "m3aggregator02", "m3aggregator03", "m3aggregator04"]);
    expect(m3.cluster.nodes.every((n) => n.getHost() === "127.0.0.1" && n.getTcpEndpoint() === `127.0.0.1:${n.getTcpPort()}`)).toBe(true);
    expect(m3.cluster.getCoordinatorAdminUrl()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await m3.cluster.admin.isHealthy()).toBe(true);
    const etcdHealth = await fetch(`${m3.cluster.getEtcdUrl()}/health`);
    expect(await etcdHealth.json()).toMatchObject({ health: "true" });
    const metrics = await (await fetch(m3.cluster.node(0).getMetricsUrl())).text();
    expect(metrics).toContain("m3aggregator_");
  });

  test("stop() removes every container of the cluster and is idempotent", async () => {
    await m3.cluster.stop();
    expect(await clusterContainers(clusterId)).toEqual([]);
    await expect(m3.cluster.stop()).resolves.toBeUndefined();
  });
});
