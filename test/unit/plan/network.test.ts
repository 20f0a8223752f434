/**
 * The named network model of the plan (swarm, kubernetes): fixed ports, listeners on 0.0.0.0,
 * DNS names in the placement, the etcd endpoint and the admin URL. Expected values are written
 * out by hand from the Kubernetes DNS scheme (<pod>.<service>.<namespace>.svc) and Swarm's
 * service names, not computed by the code under test.
 */
import { parse } from "yaml";
import { planCluster } from "../../../src/plan/plan";
import { resolveOptions } from "../../../src/cluster/options";
import { InvalidOptionError, type M3AggregatorClusterOptions } from "../../../src/model/options";
import type { PortPlan } from "../../../src/ports";

const IMAGES = {
  etcd: { image: "m3agg-local/etcd:v3.6.13", source: "local" },
  m3coordinator: { image: "m3agg-local/m3coordinator:v1.6.0", source: "local" },
  m3aggregator: { image: "m3agg-local/m3aggregator:v1.6.0", source: "local" },
} as const;
/** Loopback-looking ports: the named model must ignore them. */
const STRAY_PORTS: PortPlan = { host: "127.0.0.1", etcdClient: 1, etcdPeer: 2, coordinator: 3, coordinatorMetrics: 4, nodes: [1, 2, 3, 4].map((i) => ({ http: i * 10, metrics: i * 10 + 1, tcp: i * 10 + 2 })) };

const planOf = (options: M3AggregatorClusterOptions) =>
  planCluster({ options: resolveOptions({ clusterId: "c1", m3Version: "v1.6.0", tls: false, ...options }), ports: STRAY_PORTS, images: { ...IMAGES } });

describe("named network model", () => {
  test("kubernetes: placement endpoints are StatefulSet pod DNS names on the fixed raw TCP port", () => {
    const plan = planOf({ nodes: 4, rf: 2, target: { kubernetes: {} } });
    expect(plan.network).toBe("named");
    expect(plan.names).toMatchObject({ dns: "kubernetes", namespace: "c1" });
    expect(plan.placement.instances.map((i) => [i.id, i.endpoint, i.hostname])).toEqual([
      ["m3aggregator-0", "m3aggregator-0.m3aggregator.c1.svc:6003", "m3aggregator-0"],
      ["m3aggregator-1", "m3aggregator-1.m3aggregator.c1.svc:6003", "m3aggregator-1"],
      ["m3aggregator-2", "m3aggregator-2.m3aggregator.c1.svc:6003", "m3aggregator-2"],
      ["m3aggregator-3", "m3aggregator-3.m3aggregator.c1.svc:6003", "m3aggregator-3"],
    ]);
    expect(plan.nodes[2]?.httpUrl).toBe("http://m3aggregator-2.m3aggregator.c1.svc:6001");
    expect(plan.etcd.url).toBe("http://etcd-0.etcd.c1.svc:2379");
    expect(plan.coordinator.adminUrl).toBe("http://m3coordinator.c1.svc:7201");
  });

  test("swarm: the service names of the stack's overlay network", () => {
    const plan = planOf({ nodes: 2, rf: 2, target: { swarm: {} } });
    expect(plan.placement.instances.map((i) => i.endpoint)).toEqual(["m3aggregator-0:6003", "m3aggregator-1:6003"]);
    expect(plan.etcd.url).toBe("http://etcd:2379");
    expect(plan.coordinator.adminUrl).toBe("http://m3coordinator:7201");
  });

  test("every listener on 0.0.0.0 with the fixed ports; etcd named in the configs; one config for all nodes", () => {
    const plan = planOf({ nodes: 4, rf: 2, target: { kubernetes: {} } });
    const config = parse(plan.nodes[0]?.config ?? "");
    expect([config.http.listenAddress, config.metrics.prometheus.listenAddress, config.rawtcp.listenAddress]).toEqual(["0.0.0.0:6001", "0.0.0.0:6002", "0.0.0.0:6003"]);
    expect(config.kvClient.etcd.etcdClusters[0].endpoints).toEqual(["etcd-0.etcd.c1.svc:2379"]);
    expect(config.aggregator.hostID).toEqual({ resolver: "environment", envVarName: "M3AGGREGATOR_HOST_ID" });
    expect(new Set(plan.nodes.map((n) => n.config)).size).toBe(1);
    const coordinator = parse(plan.coordinator.config);
    expect(coordinator.listenAddress).toBe("0.0.0.0:7201");
    expect(coordinator.clusterManagement.etcd.etcdClusters[0].endpoints).toEqual(["etcd-0.etcd.c1.svc:2379"]);
    const args = plan.etcd.container.command.join(" ");
    expect(args).toContain("--listen-client-urls http://0.0.0.0:2379");
    expect(args).toContain("--advertise-client-urls http://etcd-0.etcd.c1.svc:2379");
  });

  test("ports are not allocated: the plan's ports are the fixed ones whatever the inputs held", () => {
    const plan = planOf({ nodes: 4, rf: 2, target: { swarm: {} } });
    expect(plan.inputs.ports).toEqual({
      host: "0.0.0.0", etcdClient: 2379, etcdPeer: 2380, coordinator: 7201, coordinatorMetrics: 7203,
      nodes: [0, 1, 2, 3].map(() => ({ http: 6001, metrics: 6002, tcp: 6003 })),
    });
  });

  test("TLS: the aggregators' forwarding clients verify the service name", () => {
    const plan = planOf({ nodes: 2, rf: 2, target: { kubernetes: {} }, tls: "permissive" });
    expect(parse(plan.nodes[0]?.config ?? "").aggregator.client.connection.tls.serverName).toBe("m3aggregator.c1.svc");
  });

  test("loopback options are refused on a named target, naming the option and the rule", () => {
    for (const [key, value] of [["basePort", 9000], ["host", "127.0.0.2"], ["coordinatorPort", 7000], ["etcdPort", 2000], ["debug", true], ["reuse", true]] as const) {
      expect(() => resolveOptions({ [key]: value, target: { swarm: {} } })).toThrow(new RegExp(`invalid option ${key}=.*applies to target "docker" only`));
    }
    expect(() => resolveOptions({ clusterId: "Upper_Case", target: { kubernetes: {} } })).toThrow(InvalidOptionError);
    expect(() => resolveOptions({ target: { swarm: { engines: ["/var/run/docker.sock"] } } })).toThrow(/target.swarm.engines/);
    expect(() => resolveOptions({ target: { kubernetes: { registry: "" } } })).toThrow(/target.kubernetes.registry/);
    expect(() => resolveOptions({ target: "k8s" as never })).toThrow(/invalid option target/);
  });

  test("the loopback model is unchanged: target docker is the default", () => {
    expect(resolveOptions({}).network).toEqual({ model: "loopback" });
    expect(planOf({ nodes: 2, rf: 2 }).placement.instances[0]?.endpoint).toBe("127.0.0.1:12");
  });
});
