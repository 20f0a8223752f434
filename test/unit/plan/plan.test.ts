/**
 * The cluster plan, without Docker: ids, endpoints, labels, configs, the placement request
 * and the plan label are all decided here, from options, ports and images alone.
 */
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { containerSpecs, decodePlanLabel, encodePlanLabel, instanceIdOf, planCluster, planNode, startOrderOf, type PlanInputs } from "../../../src/plan/plan";
import { createPlacement } from "../../../src/m3/create-placement";
import type { M3AdminClient } from "../../../src/m3/admin-client";
import type { M3AggregatorClusterOptions } from "../../../src/model/options";
import { resolveOptions } from "../../../src/cluster/options";
import type { PortPlan } from "../../../src/model/network";

const IMAGES = {
  etcd: { image: "m3agg-local/etcd:v3.5.17", source: "local" },
  m3coordinator: { image: "m3agg-local/m3coordinator:v1.6.0", source: "local" },
  m3aggregator: { image: "m3agg-local/m3aggregator:v1.6.0", source: "local" },
} as const;

/** Ports written out by hand (not computed by any code under test). */
function portsFor(nodes: number, host = "127.0.0.1"): PortPlan {
  return {
    host, etcdClient: 21379, etcdPeer: 21380, coordinator: 21201, coordinatorMetrics: 21203,
    nodes: Array.from({ length: nodes }, (_, i) => ({ http: 22001 + 10 * i, metrics: 22002 + 10 * i, tcp: 22003 + 10 * i })),
  };
}

function inputs(options: M3AggregatorClusterOptions, host?: string): PlanInputs {
  const resolved = resolveOptions({ ...(options.reuse === true ? {} : { clusterId: "plan-test" }), m3Version: "v1.6.0", tls: false, ...options });
  return { options: resolved, ports: portsFor(resolved.nodes, host), images: { ...IMAGES } };
}

describe("planCluster", () => {
  test("instance ids m3aggregator01.. in node order, two digits", () => {
    expect(planCluster(inputs({ nodes: 4, rf: 2 })).nodes.map((n) => n.id)).toEqual(["m3aggregator01", "m3aggregator02", "m3aggregator03", "m3aggregator04"]);
    expect(instanceIdOf(11)).toBe("m3aggregator12");
  });

  test("endpoints: host:tcp, http://host:http, http://host:metrics/metrics, on the plan's host", () => {
    const plan = planCluster(inputs({ nodes: 2, rf: 2, host: "127.0.0.2" }, "127.0.0.2"));
    expect(plan.host).toBe("127.0.0.2");
    expect(plan.nodes.map((n) => [n.tcpEndpoint, n.httpUrl, n.metricsUrl])).toEqual([
      ["127.0.0.2:22003", "http://127.0.0.2:22001", "http://127.0.0.2:22002/metrics"],
      ["127.0.0.2:22013", "http://127.0.0.2:22011", "http://127.0.0.2:22012/metrics"],
    ]);
    expect(plan.etcd.url).toBe("http://127.0.0.2:21379");
    expect(plan.coordinator.adminUrl).toBe("http://127.0.0.2:21201");
  });

  test("placement request: the nodes' ids and tcp endpoints, rf, shards, isolation groups round-robin", () => {
    const plan = planCluster(inputs({ nodes: 4, rf: 2, numShards: 32 }));
    expect(plan.placement.replication_factor).toBe(2);
    expect(plan.placement.num_shards).toBe(32);
    expect(plan.placement.instances.map((i) => [i.id, i.endpoint, i.isolation_group, i.hostname])).toEqual([
      ["m3aggregator01", "127.0.0.1:22003", "group-1", "m3aggregator01"],
      ["m3aggregator02", "127.0.0.1:22013", "group-2", "m3aggregator02"],
      ["m3aggregator03", "127.0.0.1:22023", "group-1", "m3aggregator03"],
      ["m3aggregator04", "127.0.0.1:22033", "group-2", "m3aggregator04"],
    ]);
    // The placement endpoint is the node endpoint: one computation.
    expect(plan.placement.instances.map((i) => i.endpoint)).toEqual(plan.nodes.map((n) => n.tcpEndpoint));
  });

  test("each node's config carries its own ports and the cluster's etcd", () => {
    const plan = planCluster(inputs({ nodes: 2, rf: 2 }));
    plan.nodes.forEach((node, i) => {
      const config = parse(node.config);
      expect(config.rawtcp.listenAddress).toBe(`127.0.0.1:${22003 + 10 * i}`);
      expect(config.http.listenAddress).toBe(`127.0.0.1:${22001 + 10 * i}`);
      expect(config.metrics.prometheus.listenAddress).toBe(`127.0.0.1:${22002 + 10 * i}`);
      expect(config.kvClient.etcd.etcdClusters[0].endpoints).toEqual(["127.0.0.1:21379"]);
    });
    const coordinator = parse(plan.coordinator.config);
    expect(coordinator.listenAddress).toBe("127.0.0.1:21201");
    expect(coordinator.metrics.prometheus.listenAddress).toBe("127.0.0.1:21203");
    expect(plan.etcd.container.command).toEqual(expect.arrayContaining(["--listen-client-urls", "http://127.0.0.1:21379", "--listen-peer-urls", "http://127.0.0.1:21380"]));
  });

  test("labels per container: cluster, component, node, its ports, the plan; no owner labels (they are not pure)", () => {
    const plan = planCluster(inputs({ nodes: 2, rf: 2 }));
    const node = plan.nodes[1]!;
    expect(node.container.labels["org.m3agg.cluster"]).toBe("plan-test");
    expect(node.container.labels["org.m3agg.component"]).toBe("m3aggregator");
    expect(node.container.labels["org.m3agg.node"]).toBe("m3aggregator02");
    expect(JSON.parse(node.container.labels["org.m3agg.ports"]!)).toEqual({ http: 22011, metrics: 22012, tcp: 22013 });
    expect(plan.etcd.container.labels["org.m3agg.component"]).toBe("etcd");
    expect(plan.etcd.container.labels["org.m3agg.node"]).toBeUndefined();
    expect(JSON.parse(plan.coordinator.container.labels["org.m3agg.ports"]!)).toEqual({ admin: 21201, metrics: 21203 });
    for (const labels of [plan.etcd.container.labels, plan.coordinator.container.labels, ...plan.nodes.map((n) => n.container.labels)]) {
      expect(labels["org.m3agg.plan"]).toBe(encodePlanLabel(plan.inputs));
      expect(Object.keys(labels).filter((k) => /owner|started-at|reuse/.test(k))).toEqual([]);
    }
    const kept = planCluster(inputs({ nodes: 2, rf: 2, reuse: true }));
    expect(kept.inputs.options.reuseKey).toMatch(/^[0-9a-f]+$/);
    expect(kept.etcd.container.labels["org.m3agg.reuse"]).toBe(kept.inputs.options.reuseKey);
  });

  test("images: nodes run the aggregator image, or the debug image in debug mode", () => {
    expect(planCluster(inputs({ nodes: 2, rf: 2 })).nodes.map((n) => n.container.image)).toEqual([IMAGES.m3aggregator.image, IMAGES.m3aggregator.image]);
    const planned = inputs({ nodes: 2, rf: 2, debug: {} });
    const debug = { ...planned, ports: { ...planned.ports, nodes: planned.ports.nodes.map((n, i) => ({ ...n, debug: 40000 + i })) } };
    expect(() => planCluster(debug)).toThrow("debug mode without a debug image");
    const plan = planCluster({ ...debug, images: { ...IMAGES, m3aggregatorDebug: { image: "m3agg-local/m3aggregator-debug:v1.6.0", source: "local" } } });
    expect(plan.nodes.map((n) => n.container.image)).toEqual(["m3agg-local/m3aggregator-debug:v1.6.0", "m3agg-local/m3aggregator-debug:v1.6.0"]);
  });

  test("start order: aggregators start once etcd listens (after the placement with the sink) and are polled once the placement exists", () => {
    expect(planCluster(inputs({ nodes: 2, rf: 2 })).order).toEqual({ aggregatorsStart: "etcd-listening", aggregatorsReadyFrom: "placement" });
    expect(planCluster(inputs({ nodes: 2, rf: 2, backend: "logging" })).order.aggregatorsStart).toBe("etcd-listening");
    expect(planCluster(inputs({ nodes: 2, rf: 2, backend: "sink" })).order).toEqual({ aggregatorsStart: "placement", aggregatorsReadyFrom: "placement" });
    // Waiting in delve, a node's readiness is its debugger's port, which answers before any placement.
    expect(startOrderOf("blackhole", true)).toEqual({ aggregatorsStart: "etcd-listening", aggregatorsReadyFrom: "now" });
  });

  test("TLS file references only when TLS is on; loopback containers mount every file from the cluster folder", () => {
    expect(planCluster(inputs({ nodes: 2, rf: 2 })).tls).toBeUndefined();
    const plan = planCluster(inputs({ nodes: 2, rf: 2, tls: "enforced" }));
    expect(plan.tls?.settings).toEqual({ mode: "enforced", mutualTls: true });
    const dir = path.join(os.tmpdir(), "m3agg-clusters", "plan-test");
    expect(plan.tls?.hostDir).toBe(path.join(dir, "tls"));
    expect(plan.tls?.serverName).toBe("127.0.0.1");
    for (const node of plan.nodes) {
      expect(node.container.files).toEqual([]); // nothing copied at start
      expect(node.container.mounts).toEqual([
        { hostPath: `${dir}/${node.id}/m3aggregator.yml`, target: "/etc/m3aggregator/m3aggregator.yml", content: node.config },
        { hostPath: path.join(dir, "tls"), target: "/etc/m3agg/tls" }, // the certificates' folder, mounted once
      ]);
    }
    expect(planCluster(inputs({ nodes: 2, rf: 2 })).nodes[0]!.container.mounts.map((f) => f.target)).toEqual(["/etc/m3aggregator/m3aggregator.yml"]);
    expect(plan.coordinator.container).toMatchObject({ files: [], mounts: [{ hostPath: `${dir}/m3coordinator/m3coordinator.yml`, target: "/etc/m3coordinator/m3coordinator.yml", content: plan.coordinator.config }] });
    expect(plan.etcd.container.mounts).toEqual([]);
    // The named model's renderers ship the same files as configs and secrets: copied, never mounted.
    const loopback = inputs({ nodes: 2, rf: 2, tls: "enforced" });
    const named = planCluster({ ...loopback, options: { ...loopback.options, network: { model: "named", dns: "swarm" } } });
    expect(named.nodes[0]!.container.mounts).toEqual([]);
    expect(named.nodes[0]!.container.files.filter((f) => "hostPath" in f)).toEqual(["ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem"].map((name) => ({
      hostPath: path.join(dir, "tls", name), target: `/etc/m3agg/tls/${name}`, mode: name.endsWith("key.pem") ? 0o600 : 0o644,
    })));
    expect(named.nodes[0]!.container.files.map((f) => f.target)[0]).toBe("/etc/m3aggregator/m3aggregator.yml");
    expect(parse(plan.nodes[0]!.config).rawtcp.tls.mode).toBe("enforced");
  });

  test("container specs: what each component runs, how it is ready, how long it may take", () => {
    const plan = planCluster(inputs({ nodes: 2, rf: 2 }));
    expect(plan.etcd.container).toMatchObject({
      name: "etcd", component: "etcd", image: IMAGES.etcd.image, entrypoint: ["/usr/local/bin/etcd"], tmpfs: { "/var/lib/etcd": "rw" },
      wait: { kind: "http", url: "http://127.0.0.1:21379/health", bodyIncludes: '"health":"true"' }, startupTimeoutMs: 30_000, network: "loopback",
    });
    expect(plan.coordinator.container).toMatchObject({
      name: "m3coordinator", image: IMAGES.m3coordinator.image, entrypoint: ["/bin/m3coordinator"], command: ["-f", "/etc/m3coordinator/m3coordinator.yml"],
      mounts: [{ content: plan.coordinator.config, target: "/etc/m3coordinator/m3coordinator.yml" }],
      wait: { kind: "http", url: "http://127.0.0.1:21201/health" }, startupTimeoutMs: 60_000,
    });
    expect(plan.nodes[1]!.container).toMatchObject({
      name: "m3aggregator02", component: "m3aggregator", entrypoint: ["/bin/m3aggregator"], command: ["-f", "/etc/m3aggregator/m3aggregator.yml"],
      env: { M3AGGREGATOR_HOST_ID: "m3aggregator02" }, capabilities: [], wait: { kind: "http", url: "http://127.0.0.1:22011/health" }, startupTimeoutMs: 90_000,
    });
    expect(containerSpecs(plan).map((c) => c.name)).toEqual(["etcd", "m3coordinator", "m3aggregator01", "m3aggregator02"]);
    expect(plan.readiness).toBe("election");
    expect(plan.sink).toBeUndefined();
    expect(planCluster(inputs({ nodes: 2, rf: 2, backend: "sink" })).sink).toEqual({ topic: "aggregated_metrics" });
  });

  test("debug mode is a plan decision: delve as the entrypoint, SYS_PTRACE, and waiting for the debugger means waiting for delve's port", () => {
    const debugImages = { ...IMAGES, m3aggregatorDebug: { image: "m3agg-local/m3aggregator-debug:v1.6.0", source: "local" as const } };
    const withDebugPorts = (i: PlanInputs): PlanInputs => ({ ...i, images: debugImages, ports: { ...i.ports, nodes: i.ports.nodes.map((n, k) => ({ ...n, debug: 40000 + k })) } });
    const running = planCluster(withDebugPorts(inputs({ nodes: 2, rf: 2, debug: {} })));
    expect(running.nodes[0]!.container).toMatchObject({
      image: debugImages.m3aggregatorDebug.image, entrypoint: ["/bin/dlv"], capabilities: ["SYS_PTRACE"],
      command: ["exec", "/bin/m3aggregator", "--headless", "--listen=127.0.0.1:40000", "--api-version=2", "--accept-multiclient", "--continue", "--", "-f", "/etc/m3aggregator/m3aggregator.yml"],
      wait: { kind: "http", url: "http://127.0.0.1:22001/health" },
    });
    expect(running.readiness).toBe("election");
    const waiting = planCluster(withDebugPorts(inputs({ nodes: 2, rf: 2, debug: { waitForDebugger: true } })));
    expect(waiting.nodes[1]!.container.command).not.toContain("--continue");
    expect(waiting.nodes[1]!.container.wait).toEqual({ kind: "tcp", host: "127.0.0.1", port: 40001 });
    expect(waiting.readiness).toBe("debugger");
  });

  test("planNode plans one node of an existing plan: the same node planCluster made, and a new one on its own ports", () => {
    const plan = planCluster(inputs({ nodes: 2, rf: 2 }));
    expect(planNode(plan, 1, plan.inputs.ports.nodes[1]!)).toEqual(plan.nodes[1]);
    const added = planNode(plan, 2, { http: 22021, metrics: 22022, tcp: 22023 });
    expect(added.id).toBe("m3aggregator03");
    expect(added.tcpEndpoint).toBe("127.0.0.1:22023");
    expect(parse(added.config).kvClient.etcd.etcdClusters[0].endpoints).toEqual(["127.0.0.1:21379"]);
    expect(added.container.labels["org.m3agg.node"]).toBe("m3aggregator03");
  });

  test("pure: the same inputs give the same plan", () => {
    expect(planCluster(inputs({ nodes: 4, rf: 2 }))).toEqual(planCluster(inputs({ nodes: 4, rf: 2 })));
  });
});

describe("plan label", () => {
  test("round-trips: the decoded inputs give the same plan", () => {
    const original = inputs({ nodes: 4, rf: 2, tls: "permissive", reuse: true });
    const decoded = decodePlanLabel(encodePlanLabel(original));
    expect(decoded).toEqual(original);
    expect(planCluster(decoded)).toEqual(planCluster(original));
  });

  test("is versioned: another version, a missing part or no JSON is refused with the reason", () => {
    const label = JSON.parse(encodePlanLabel(inputs({ nodes: 2, rf: 2 })));
    expect(() => decodePlanLabel(JSON.stringify({ ...label, v: 2 }))).toThrow("org.m3agg.plan has version 2, this package reads version 1");
    expect(() => decodePlanLabel(JSON.stringify({ v: 1, options: label.options }))).toThrow("org.m3agg.plan lacks ports, images");
    expect(() => decodePlanLabel("{")).toThrow("org.m3agg.plan is not JSON");
  });
});

describe("createPlacement", () => {
  test("inits the plan's request, then writes the placement back with every shard cut over at 0", async () => {
    const calls: string[] = [];
    const created = {
      instances: { m3aggregator01: { id: "m3aggregator01", shardSetId: 1, shards: [{ id: 0, state: "INITIALIZING", cutoverNanos: "1700000000000000000" }] } },
    };
    const admin = {
      initPlacement: async (service: string, request: unknown) => { calls.push(`init ${service} ${JSON.stringify(request)}`); return {}; },
      getPlacement: async () => { calls.push("get"); return { placement: created, version: 3 }; },
      setPlacement: async (_s: string, placement: { instances: Record<string, { shards: Array<{ cutoverNanos: string }> }> }, version: number, force: boolean) => {
        calls.push(`set v${version} force=${force} cutover=${placement.instances.m3aggregator01!.shards[0]!.cutoverNanos}`);
        return { placement, version: 4 };
      },
    } as unknown as M3AdminClient;
    const plan = planCluster(inputs({ nodes: 2, rf: 2 }));
    await createPlacement(admin, plan.placement);
    expect(calls).toEqual([`init m3aggregator ${JSON.stringify(plan.placement)}`, "get", "set v3 force=true cutover=0"]);
  });
});
