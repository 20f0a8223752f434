/** Bad input and failed starts: clear errors, nothing left running. */
import { M3AggregatorCluster } from "../../src/cluster/start";
import { StartedM3AggregatorCluster } from "../../src/cluster/started";
import { ClusterStartError } from "../../src/cluster/errors";
import { InvalidOptionError } from "../../src/model/options";
import { clusterContainers, uniqueClusterId } from "./helpers";

describe("invalid options", () => {
  test.each([
    [{ nodes: 3, rf: 1 }, "nodes=3: must be even"],
    [{ nodes: 2, rf: 4 }, "rf=4: must be an integer from 1 to 2"],
    [{ nodes: 6, rf: 4 }, "rf=4: must divide nodes=6"],
  ])("%j fails fast and starts nothing", async (options, message) => {
    const clusterId = uniqueClusterId("invalid");
    // Fast: the constructor throws synchronously, before any Docker call, port or container.
    expect(() => new M3AggregatorCluster({ ...options, clusterId })).toThrow(InvalidOptionError);
    await expect(M3AggregatorCluster.start({ ...options, clusterId })).rejects.toThrow(message);
    expect(await clusterContainers(clusterId)).toEqual([]);
  });
});

describe("a node that cannot start", () => {
  test("fails in phase 'aggregators' with that node's last log lines and removes everything", async () => {
    const clusterId = uniqueClusterId("broken");
    // eps 0 is rejected by m3aggregator at start-up ("epsilon value must be between 0 and 0.5").
    const start = M3AggregatorCluster.start({
      nodes: 2, rf: 2, clusterId, configOverrides: { aggregator: { aggregator: { stream: { eps: 0 } } } },
    });
    const error = await start.then(
      (cluster: StartedM3AggregatorCluster) => { void cluster.stop(); throw new Error("start should have failed"); },
      (e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterStartError);
    const startError = error as ClusterStartError;
    expect(startError.phase).toBe("aggregators");
    expect(startError.message).toMatch(/m3aggregator01: .*container exited/);
    expect(startError.message).toContain("last");
    expect(startError.message).toMatch(/epsilon/i);
    expect(startError.logTails.find((t) => t.component === "m3aggregator01")?.lines.join("\n")).toMatch(/epsilon/i);
    expect(await clusterContainers(clusterId)).toEqual([]);
  }, 120_000);
});

describe("concurrent clusters", () => {
  test("two clusters started at once both become ready on distinct ports", async () => {
    const ids = [uniqueClusterId("twin-a"), uniqueClusterId("twin-b")];
    const results = await Promise.allSettled(ids.map((clusterId) => M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId })));
    const clusters = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    try {
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
      const [a, b] = clusters as [StartedM3AggregatorCluster, StartedM3AggregatorCluster];
      const portsOf = (c: StartedM3AggregatorCluster) => [c.ports.etcdClient, c.ports.etcdPeer, c.ports.coordinator,
        c.ports.coordinatorMetrics, ...c.nodes.flatMap((n) => [n.getHttpPort(), n.getMetricsPort(), n.getTcpPort()])];
      expect(new Set([...portsOf(a), ...portsOf(b)]).size).toBe(portsOf(a).length * 2);
      for (const cluster of clusters) {
        expect([...(await cluster.leaders()).values()].every((leader) => leader !== undefined)).toBe(true);
      }
    } finally {
      await Promise.all(clusters.map((c) => c.stop()));
    }
    for (const clusterId of ids) expect(await clusterContainers(clusterId)).toEqual([]);
  }, 180_000);
});
