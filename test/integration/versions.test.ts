/**
 * m3 versions: the default cluster runs v1.6.0 (its followers can lead before the first
 * flush, m3 PR #4169), v1.5.0 on request (they cannot), and a v1.6.0 cluster keeps
 * working after its etcd clients' first autosync (one minute in).
 */
import { M3IngestClient } from "../../src/ingest/client";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { type StartedM3AggregatorCluster } from "../../src/cluster/started";
import { uniqueClusterId } from "./helpers";

/** The build_version label of the node's build_information gauge (m3 writes dots as underscores). */
async function buildVersion(cluster: StartedM3AggregatorCluster): Promise<string | undefined> {
  const text = await (await fetch(cluster.node(0).getMetricsUrl())).text();
  return /m3aggregator_build_information\{[^}]*build_version="([^"]+)"/.exec(text)?.[1];
}

test("default: m3 v1.6.0; followers report canLead: true on a fresh cluster; build_information names v1.6.0", async () => {
  const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId: uniqueClusterId("v160") });
  try {
    expect(cluster.getM3Version()).toBe("v1.6.0");
    expect(cluster.images.m3aggregator).toBe("m3agg-local/m3aggregator:v1.6.0");
    expect(await buildVersion(cluster)).toBe("v1_6_0");
    const [set] = await cluster.election();
    expect(set!.members.map((m) => [m.electionState, m.canLead]).sort()).toEqual([["follower", true], ["leader", true]]);
  } finally {
    await cluster.stop();
  }
}, 120_000);

test("m3Version v1.5.0: build_information names v1.5.0, its follower reports canLead: false until the first flush", async () => {
  const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, m3Version: "v1.5.0", clusterId: uniqueClusterId("v150") });
  try {
    expect(cluster.getM3Version()).toBe("v1.5.0");
    expect(cluster.tls).toBeUndefined();
    expect(cluster.images.etcd).toBe("m3agg-local/etcd:v3.5.17");
    expect(await buildVersion(cluster)).toBe("v1_5_0");
    const [set] = await cluster.election();
    expect(set!.members.map((m) => [m.electionState, m.canLead]).sort()).toEqual([["follower", false], ["leader", true]]);
  } finally {
    await cluster.stop();
  }
}, 120_000);

test("v1.6.0 stays healthy and keeps aggregating past 70 s (its etcd clients autosync after a minute)", async () => {
  const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, backend: "sink", clusterId: uniqueClusterId("autosync") });
  try {
    const started = Date.now();
    const id = `autosync.${Date.now()}`;
    const client = await M3IngestClient.connect(cluster);
    await client.counter(id, 2);
    await client.flush();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 72_000 - (Date.now() - started))));
    await client.counter(id, 3);
    await client.close();
    await cluster.waitForReady({ timeoutMs: 10_000 });
    expect(await Promise.all(cluster.nodes.map((n) => n.api.isHealthy()))).toEqual([true, true]);
    const total = await cluster.getSink().waitFor((points) => {
      const sum = points.filter((p) => p.id === id).reduce((s, p) => s + p.value, 0);
      return sum === 5 ? sum : undefined;
    }, { timeoutMs: 40_000, what: `${id} to total 5 after the first autosync` });
    expect(total).toBe(5);
    expect(cluster.node(0).logLines().join("\n")).not.toMatch(/"level":"(error|fatal)".*etcd/i);
  } finally {
    await cluster.stop();
  }
}, 180_000);
