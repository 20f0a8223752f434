/**
 * The faults part of the cluster plan, without Docker: which proxy each link gets, what the
 * node configs, the placement and the coordinator dial instead of the direct endpoints, and the
 * errors of fault methods on clusters without faults: true.
 */
import { parse } from "yaml";
import { containerSpecs, planCluster, type PlanInputs } from "../../../src/plan/plan";
import { resolveOptions } from "../../../src/cluster/options";
import { InvalidOptionError } from "../../../src/model/options";
import type { PortPlan } from "../../../src/model/network";
import { FaultLog, FaultsDisabledError, LinkFaults, nodeLinkMap } from "../../../src/faults/network";
import { flushAddressOf } from "../../../src/faults/plan";

const IMAGES = {
  etcd: { image: "m3agg-local/etcd:v3.6.13", source: "local" },
  m3coordinator: { image: "m3agg-local/m3coordinator:v1.6.0", source: "local" },
  m3aggregator: { image: "m3agg-local/m3aggregator:v1.6.0", source: "local" },
  toxiproxy: { image: "m3agg-local/toxiproxy:v2.12.0", source: "local" },
} as const;

/** Ports written out by hand. */
const PORTS: PortPlan = {
  host: "127.0.0.1", etcdClient: 21379, etcdPeer: 21380, coordinator: 21201, coordinatorMetrics: 21203,
  nodes: [{ http: 22001, metrics: 22002, tcp: 22003 }, { http: 22011, metrics: 22012, tcp: 22013 }],
  faults: { api: 23000, coordinatorEtcd: 23001, sink: 23002, flush: 23003, nodes: [{ etcd: 23010, ingest: 23011 }, { etcd: 23020, ingest: 23021 }] },
};

function inputs(faults: boolean): PlanInputs {
  const options = resolveOptions({ clusterId: "faults-plan", nodes: 2, rf: 2, m3Version: "v1.6.0", tls: false, backend: "sink", faults });
  const ports = faults ? PORTS : { ...PORTS, faults: undefined };
  return { options, ports, images: { ...IMAGES } };
}

describe("faults in the plan", () => {
  test("off by default: no proxy, direct endpoints everywhere", () => {
    expect(resolveOptions({}).faults).toBe(false);
    const plan = planCluster(inputs(false));
    expect(plan.faults).toBeUndefined();
    expect(plan.placement.instances.map((i) => i.endpoint)).toEqual(["127.0.0.1:22003", "127.0.0.1:22013"]);
    expect(parse(plan.nodes[0]!.config).kvClient.etcd.etcdClusters[0].endpoints).toEqual(["127.0.0.1:21379"]);
    expect(plan.nodes[0]!.container.extraHosts).toBeUndefined();
  });

  test("one proxy per link: node → etcd, clients → node, node → sink (own loopback address), coordinator → etcd", () => {
    const plan = planCluster(inputs(true));
    expect(plan.faults!.proxies.map((p) => [p.name, p.listen, p.upstream])).toEqual([
      ["m3aggregator01.etcd", "127.0.0.1:23010", "127.0.0.1:21379"],
      ["m3aggregator01.ingest", "127.0.0.1:23011", "127.0.0.1:22003"],
      ["m3aggregator01.flush", "127.0.1.1:23003", "127.0.0.1:23002"],
      ["m3aggregator02.etcd", "127.0.0.1:23020", "127.0.0.1:21379"],
      ["m3aggregator02.ingest", "127.0.0.1:23021", "127.0.0.1:22013"],
      ["m3aggregator02.flush", "127.0.1.2:23003", "127.0.0.1:23002"],
      ["m3coordinator.etcd", "127.0.0.1:23001", "127.0.0.1:21379"],
    ]);
    expect(plan.faults!.apiUrl).toBe("http://127.0.0.1:23000");
    expect(plan.faults!.args).toEqual(["-host", "127.0.0.1", "-port", "23000"]);
    expect(plan.faults!.container.command).toEqual(["-host", "127.0.0.1", "-port", "23000"]);
    expect(plan.faults!.container.wait).toEqual({ kind: "http", url: "http://127.0.0.1:23000/version" });
    expect(containerSpecs(plan).map((c) => c.name)).toEqual(["toxiproxy", "etcd", "m3coordinator", "m3aggregator01", "m3aggregator02"]);
    expect(plan.faults!.container.labels["org.m3agg.component"]).toBe("toxiproxy");
    expect(plan.faults!.container.labels["org.m3agg.cluster"]).toBe("faults-plan");
  });

  test("the placement endpoint is the ingest proxy; each node dials etcd through its own proxy and resolves the sink to its own flush proxy", () => {
    const plan = planCluster(inputs(true));
    expect(plan.placement.instances.map((i) => i.endpoint)).toEqual(["127.0.0.1:23011", "127.0.0.1:23021"]);
    expect(plan.nodes.map((n) => n.tcpEndpoint)).toEqual(["127.0.0.1:22003", "127.0.0.1:22013"]); // the node still listens there
    expect(plan.nodes.map((n) => parse(n.config).kvClient.etcd.etcdClusters[0].endpoints)).toEqual([["127.0.0.1:23010"], ["127.0.0.1:23020"]]);
    expect(plan.nodes.map((n) => parse(n.config).rawtcp.listenAddress)).toEqual(["127.0.0.1:22003", "127.0.0.1:22013"]);
    expect(plan.nodes.map((n) => n.container.extraHosts)).toEqual([{ "m3agg-sink": "127.0.1.1" }, { "m3agg-sink": "127.0.1.2" }]);
    expect(parse(plan.coordinator.config).clusterManagement.etcd.etcdClusters[0].endpoints).toEqual(["127.0.0.1:23001"]);
    // etcd's autosync would replace the proxy by the address etcd advertises a minute in: off (m3 turns a negative interval into 0 = off).
    expect(plan.nodes.map((n) => parse(n.config).kvClient.etcd.etcdClusters[0].autoSyncInterval)).toEqual(["-1s", "-1s"]);
    expect(parse(plan.coordinator.config).clusterManagement.etcd.etcdClusters[0].autoSyncInterval).toBe("-1s");
    expect(parse(planCluster(inputs(false)).nodes[0]!.config).kvClient.etcd.etcdClusters[0].autoSyncInterval).toBe("1m");
    expect(plan.faults!.sinkPlacementEndpoint).toBe("m3agg-sink:23003");
    expect(plan.faults!.sinkListen).toEqual({ host: "127.0.0.1", port: 23002 });
  });

  test("flush proxies: 127.0.1.<n>, at most 254 nodes", () => {
    expect([0, 1, 253].map(flushAddressOf)).toEqual(["127.0.1.1", "127.0.1.2", "127.0.1.254"]);
    expect(() => flushAddressOf(254)).toThrow(/at most 254 nodes/);
  });

  test("options: faults must be boolean, needs a loopback host", () => {
    expect(() => resolveOptions({ faults: "yes" as unknown as boolean })).toThrow(InvalidOptionError);
    expect(() => resolveOptions({ faults: true, host: "10.1.2.3" })).toThrow(/faults=true: needs a loopback host/);
    expect(resolveOptions({ faults: true, reuse: true }).reuseKey).not.toBe(resolveOptions({ reuse: true }).reuseKey); // a kept faults cluster is another cluster
    expect(resolveOptions({ faults: true, host: "127.0.0.2" }).faults).toBe(true);
  });
});

describe("fault methods without faults: true", () => {
  const off = new LinkFaults(undefined, "plain-cluster", "m3aggregator01", nodeLinkMap("m3aggregator01"), undefined, "m3aggregator01.network");
  test.each([
    ["cut", () => off.cut("etcd")],
    ["reset", () => off.reset("ingest")],
    ["latency", () => off.latency("ingest", { ms: 10 })],
    ["bandwidth", () => off.bandwidth("flush", 10)],
    ["heal", () => off.heal()],
  ])("%s rejects naming the option and the cluster", async (method, call) => {
    const error = await call().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(FaultsDisabledError);
    expect((error as Error).message).toContain(`m3aggregator01.network.${method}()`);
    expect((error as Error).message).toContain("cluster plain-cluster");
    expect((error as Error).message).toContain("faults: true");
  });

  test("an unknown link is named with the known ones", () => {
    const on = new LinkFaults({} as never, "c", "m3aggregator01", nodeLinkMap("m3aggregator01"), new FaultLog(), "n");
    expect(() => on.proxiesOf("disk")).toThrow(`m3aggregator01 has no link "disk" (links: etcd, ingest, flush, or "all")`);
    expect(on.proxiesOf("all")).toEqual(["m3aggregator01.etcd", "m3aggregator01.ingest", "m3aggregator01.flush"]);
  });
});
