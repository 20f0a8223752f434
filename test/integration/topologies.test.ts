/** Other topologies m3's mirrored placement must accept, and the seed's fixed port layout. */
import * as net from "node:net";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { type StartedM3AggregatorCluster } from "../../src/cluster/started";
import { clusterContainers, uniqueClusterId } from "./helpers";

async function freeBase(): Promise<number> {
  // A base whose 2-node seed range is very likely free: find a free port, step back.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return Math.max(1024, port - 3);
}

describe.each([
  { nodes: 2, rf: 2 },
  { nodes: 6, rf: 3 },
  { nodes: 4, rf: 1 },
])("nodes=$nodes rf=$rf", ({ nodes, rf }) => {
  let cluster: StartedM3AggregatorCluster | undefined;
  const clusterId = uniqueClusterId(`topo${nodes}x${rf}`);

  afterAll(async () => {
    await cluster?.stop();
    expect(await clusterContainers(clusterId)).toEqual([]);
  });

  test("starts with nodes/rf shard sets of rf replicas, one leader each", async () => {
    cluster = await M3AggregatorCluster.start({ nodes, rf, clusterId });
    const election = await cluster.election();
    expect(election).toHaveLength(nodes / rf);
    for (const set of election) {
      expect(set.members).toHaveLength(rf);
      expect(set.members.filter((m) => m.electionState === "leader")).toHaveLength(1);
    }
  }, 120_000);
});

describe("basePort", () => {
  test("keeps the seed's layout: node i on base+1+10(i-1) HTTP, +2 metrics, +3 TCP", async () => {
    const base = await freeBase();
    const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, basePort: base });
    try {
      expect(cluster.nodes.map((n) => [n.getHttpPort(), n.getMetricsPort(), n.getTcpPort()])).toEqual([
        [base + 1, base + 2, base + 3],
        [base + 11, base + 12, base + 13],
      ]);
      expect(await cluster.node(1).api.isHealthy()).toBe(true);
    } finally {
      await cluster.stop();
    }
  }, 120_000);

  test("a taken port of the layout fails before anything starts, naming the port", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const busy = (blocker.address() as net.AddressInfo).port;
    const clusterId = uniqueClusterId("busy");
    try {
      // node 1's raw TCP port is base+3
      await expect(M3AggregatorCluster.start({ nodes: 2, rf: 2, basePort: busy - 3, clusterId }))
        .rejects.toThrow(`port ${busy} on 127.0.0.1 (node 1 raw TCP) is already in use`);
      expect(await clusterContainers(clusterId)).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});

describe("host", () => {
  test("another loopback address: every listener binds 127.0.0.2 and the placement advertises it", async () => {
    const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, host: "127.0.0.2" });
    try {
      const placement = await cluster.placement();
      expect(Object.values(placement.instances).map((i) => i.endpoint).sort()).toEqual(cluster.nodes.map((n) => `127.0.0.2:${n.getTcpPort()}`).sort());
      expect(cluster.getCoordinatorAdminUrl()).toMatch(/^http:\/\/127\.0\.0\.2:/);
      expect(cluster.getEtcdUrl()).toMatch(/^http:\/\/127\.0\.0\.2:/);
      expect(await cluster.node(0).api.isHealthy()).toBe(true);
      // Bound to 127.0.0.2 only: the same port on 127.0.0.1 refuses.
      const refused = await new Promise<string>((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port: cluster.node(0).getTcpPort() });
        socket.once("connect", () => { socket.destroy(); resolve("connected"); });
        socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      expect(refused).toBe("ECONNREFUSED");
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});

