/**
 * The cluster plan: everything a start decides before it runs anything, as one plain value.
 * A pure function of (resolved options, allocated ports, resolved images): instance ids,
 * endpoints, rendered configs, the placement request, and one complete container spec per
 * component (image, entrypoint and command, env, files, TLS files by reference, wait strategy,
 * timeout, labels, network model). The start runs the plan; an attach reads the same inputs
 * back from the `org.m3agg.plan` label and calls the same function.
 *
 * Where later features plug in: a node added at run time is {@link planNode} of the plan with
 * its own index and ports; a proxy in front of a link is one more {@link ContainerSpec} in
 * {@link containerSpecs}, with the dialling side's config pointed at it; another network model
 * than "loopback" is a value of `network` that plan and executor both handle.
 */
import { buildPlacementInitRequest } from "../m3/placement";
import type { PlacementInitRequest } from "../m3/types";
import { renderAggregatorConfig, renderCoordinatorConfig, SINK_TOPIC } from "../m3/config-render";
import type { Component, ContainerComponent } from "../model/components";
import { identityLabels, LABEL_PLAN } from "../model/labels";
import type { M3Version } from "../model/versions";
import type { FlushBackend } from "../model/options";
import { ANY_ADDRESS, type NamedDns, type NetworkModel, type NodePorts } from "../model/network";
import { type NamedHosts, namedHosts, namedNodeId, namedPortPlan } from "./network";
import { CONTAINER_TLS_DIR, TLS_FILES, type TlsSettings } from "../model/tls";
import { clusterDirOf, clusterTlsDirOf } from "../lifecycle/cluster-dir";
import { encodePlanLabel, type PlanInputs } from "./label";
import type { ContainerSpec, FileSpec, MountSpec } from "./spec";
import { type FaultsPlan, nodeLinks, planFaults } from "../faults/plan";

export { decodePlanLabel, encodePlanLabel, PLAN_LABEL_VERSION, type PlanImages, type PlanInputs } from "./label";
export type { ContainerSpec, FileSpec, MountSpec, WaitSpec } from "./spec";

/** One aggregator node of the plan. */
export interface NodePlan {
  /** Instance id = host id = placement instance id: m3aggregator01, m3aggregator02, … */
  id: string;
  /** Address the node's listeners bind and clients dial. */
  host: string;
  ports: NodePorts;
  /** `${host}:${tcp}`: the node's raw TCP address (its placement endpoint unless faults are on). */
  tcpEndpoint: string;
  /** The node's endpoint in the placement: tcpEndpoint, or with faults its ingest proxy's listener. */
  placementEndpoint: string;
  httpUrl: string;
  metricsUrl: string;
  /** m3aggregator.yml of this node (also one of its container's files). */
  config: string;
  container: ContainerSpec;
}

/** The whole plan of one cluster. */
export interface ClusterPlan {
  clusterId: string;
  /** Address every listener binds and every client dials. */
  host: string;
  /** How the containers reach each other. */
  network: NetworkModel;
  /**
   * The named model's names (swarm, kubernetes; undefined for loopback): which DNS, the namespace
   * (Kubernetes namespace / Swarm stack: the cluster id) and the DNS name of every component.
   */
  names: { dns: NamedDns; namespace: string; hosts: NamedHosts } | undefined;
  version: M3Version;
  /** Local m3 checkout the images were built from, or undefined for release images. */
  source: string | undefined;
  inputs: PlanInputs;
  etcd: { clientPort: number; peerPort: number; url: string; container: ContainerSpec };
  coordinator: { port: number; metricsPort: number; adminUrl: string; config: string; container: ContainerSpec };
  nodes: NodePlan[];
  /** `faults: true`: the fault proxies (links, proxies, the Toxiproxy container), else undefined. */
  faults: (FaultsPlan & { container: ContainerSpec }) | undefined;
  /** The aggregator placement to create (its shards are then cut over at once: see m3/create-placement.ts). */
  placement: PlacementInitRequest;
  /**
   * Backend "sink": the m3msg topic the aggregators flush to. They exit without it, so they start
   * once the placement phase registered the sink. Undefined for the other backends.
   */
  sink: { topic: string } | undefined;
  /** When the start lets the engine start the aggregators, and from when it polls their readiness: see {@link StartOrder}. */
  order: StartOrder;
  /**
   * What makes the started cluster ready: "election" (every shard set has one leader and verified
   * followers), or "debugger" (debug mode with waitForDebugger: the nodes wait in delve before main,
   * so start returns once every delve answers).
   */
  readiness: "election" | "debugger";
  /**
   * TLS, or undefined when off: the settings, the host folder the certificates are written to
   * (derived from the cluster id, so any process finds it), and the server name they are made for.
   * The containers get the files through their specs.
   */
  tls: { settings: TlsSettings; hostDir: string; serverName: string } | undefined;
}

/**
 * A point of a start that containers wait for: "now" (no wait), "etcd-listening" (etcd's client
 * port accepts connections), "coordinator-started" (the engine
 * started the coordinator's container, before it is ready), "placement" (the placement phase is
 * done: the placement exists, its shards cut over, the sink's topic registered).
 */
export type StartEvent = "now" | "etcd-listening" | "coordinator-started" | "placement";

/**
 * The order of a start's containers, beyond "etcd and the coordinator first, then the placement".
 * Every aggregator container is created and given its files right away; the engine starts it at
 * `aggregatorsStart`, and its readiness is polled from `aggregatorsReadyFrom` on.
 */
export interface StartOrder {
  /**
   * "etcd-listening": m3aggregator tolerates starting before its placement exists (it watches the
   * placement key and waits up to placementWatcher.initWatchTimeout, 60 s in the fixture's config),
   * but not before etcd listens: its etcd client's first dial is refused and gRPC retries only after
   * its 1 s backoff, so a node that ran first saw the placement ~1 s late (4x2 ready 1.3–1.4 s instead
   * of ~0.6 s in about one start of three with "now"). Once etcd's client port accepts, the nodes
   * start, before etcd's health check passes and while the coordinator starts.
   * With backend "sink", "placement": an aggregator exits when its flush topic is missing, and the
   * placement phase registers it.
   */
  aggregatorsStart: StartEvent;
  /**
   * "placement": m3aggregator opens its HTTP listener only once it loaded its placement
   * (src/aggregator/server/server.go: aggregator.Open() watches the placement, serve.Serve comes
   * after), so polling /health before would only collect refused connections. "now" when readiness
   * is the debugger's port (delve listens before m3aggregator runs).
   */
  aggregatorsReadyFrom: StartEvent;
}

/** The start order of a plan: a pure function of its backend and whether the nodes wait in delve. */
export function startOrderOf(backend: FlushBackend, waitForDebugger: boolean): StartOrder {
  return {
    aggregatorsStart: backend === "sink" ? "placement" : "etcd-listening",
    aggregatorsReadyFrom: waitForDebugger ? "now" : "placement",
  };
}

/** Instance id of node `index` (0-based): m3aggregator01, m3aggregator02, … as in the seed. */
export function instanceIdOf(index: number): string {
  return `m3aggregator${String(index + 1).padStart(2, "0")}`;
}

/** The data dir of etcd inside its container (a tmpfs). */
export const ETCD_DATA_DIR = "/var/lib/etcd";
/** Where each m3 config goes in its container. */
export const AGGREGATOR_CONFIG_PATH = "/etc/m3aggregator/m3aggregator.yml";
export const COORDINATOR_CONFIG_PATH = "/etc/m3coordinator/m3coordinator.yml";

/** The longest each component may take to be ready after its container started. */
export const STARTUP_TIMEOUT_MS: Readonly<Record<Component, number>> = { etcd: 30_000, m3coordinator: 60_000, m3aggregator: 90_000 };

/** etcd's command line: one member listening on `host`. */
export function etcdArgs(host: string, clientPort: number, peerPort: number, dataDir = ETCD_DATA_DIR): string[] {
  const client = `http://${host}:${clientPort}`;
  const peer = `http://${host}:${peerPort}`;
  return [
    "--name", "etcd0",
    "--data-dir", dataDir,
    "--listen-client-urls", client,
    "--advertise-client-urls", client,
    "--listen-peer-urls", peer,
    "--initial-advertise-peer-urls", peer,
    "--initial-cluster", `etcd0=${peer}`,
    "--initial-cluster-state", "new",
    "--logger", "zap",
    "--log-level", "warn",
    // One member on loopback: a 10 ms heartbeat makes it leader in ~0.1 s instead of ~1 s.
    "--heartbeat-interval", "10",
    "--election-timeout", "100",
  ];
}

/**
 * etcd's command line in the named model: clients on 0.0.0.0, advertised under its DNS name
 * (m3's etcd clients replace their endpoints with the advertised ones); the single member's
 * peer URL stays on loopback, since no other member ever dials it.
 */
export function namedEtcdArgs(advertiseHost: string, clientPort: number, peerPort: number, dataDir = ETCD_DATA_DIR): string[] {
  const args = etcdArgs("127.0.0.1", clientPort, peerPort, dataDir);
  const set = (flag: string, value: string) => { args[args.indexOf(flag) + 1] = value; };
  set("--listen-client-urls", `http://${ANY_ADDRESS}:${clientPort}`);
  set("--advertise-client-urls", `http://${advertiseHost}:${clientPort}`);
  return args;
}

/** What {@link planNode} needs of the plan it adds a node to. */
export type NodeContext = Pick<ClusterPlan, "inputs" | "host" | "network" | "names">;

/** Identity labels of a container of the plan, the plan label included. */
function labelsOf(inputs: PlanInputs, component: ContainerComponent, componentPorts: object, node?: string): Record<string, string> {
  const { clusterId, reuseKey } = inputs.options;
  return { ...identityLabels({ clusterId, reuseKey }, component, componentPorts, node), [LABEL_PLAN]: encodePlanLabel(inputs) };
}

/**
 * How container `name` of the plan gets its config files, and with `tls` the certificates.
 * Loopback: the engine runs on this machine (host network), so they are bind-mounted read-only from
 * the cluster folder (the certificates as one folder) and a start copies nothing: copying into six
 * containers at once took 250–450 ms of a 4x2 start on 2 cores. Named: copied, as the renderers ship
 * them (configs and secrets).
 */
function delivered(inputs: PlanInputs, network: NetworkModel, name: string, configs: Array<{ content: string; target: string }>, tls = false): { files: FileSpec[]; mounts: MountSpec[] } {
  const { clusterId } = inputs.options;
  const withTls = tls && inputs.options.tls !== undefined;
  if (network === "named") {
    const tlsDir = clusterTlsDirOf(clusterId);
    const tlsFiles = withTls ? TLS_FILES.map((f) => ({ hostPath: `${tlsDir}/${f.name}`, target: `${CONTAINER_TLS_DIR}/${f.name}`, mode: f.mode })) : [];
    return { files: [...configs, ...tlsFiles], mounts: [] };
  }
  const dir = clusterDirOf(clusterId);
  return {
    files: [],
    mounts: [
      ...configs.map((f) => ({ hostPath: `${dir}/${name}/${f.target.slice(f.target.lastIndexOf("/") + 1)}`, target: f.target, content: f.content })),
      ...(withTls ? [{ hostPath: clusterTlsDirOf(clusterId), target: CONTAINER_TLS_DIR }] : []),
    ],
  };
}

/**
 * Node `index` (0-based) of a plan, on `ports`: pure. planCluster makes every node with it; a node
 * added to a running cluster later is planned the same way, with the next index and its own ports.
 */
export function planNode(plan: NodeContext, index: number, ports: NodePorts): NodePlan {
  const { options, images } = plan.inputs;
  const host = plan.host;
  const hosts = plan.names?.hosts;
  // Named model: the pod / service name is the id, and the node is dialled by its DNS name.
  const id = hosts === undefined ? instanceIdOf(index) : namedNodeId(index);
  const dialHost = hosts?.nodes[index] ?? host;
  const debug = options.debug;
  const image = debug === undefined ? images.m3aggregator.image : images.m3aggregatorDebug?.image;
  if (image === undefined) throw new Error(`cluster ${options.clusterId}: debug mode without a debug image`);
  if (debug !== undefined && ports.debug === undefined) throw new Error(`${id}: debug mode without a debug port`);
  // faults: true: the node dials etcd through its proxy, is dialled through its ingest proxy, and resolves the sink to its flush proxy.
  const faultPorts = plan.inputs.ports.faults;
  if (options.faults && faultPorts === undefined) throw new Error(`cluster ${options.clusterId}: faults without fault ports`);
  const links = options.faults && faultPorts !== undefined ? nodeLinks(host, faultPorts, index) : undefined;
  const config = renderAggregatorConfig({
    host,
    ports,
    etcdClientPort: plan.inputs.ports.etcdClient,
    etcdEndpoint: links?.etcdEndpoint ?? (hosts === undefined ? undefined : `${hosts.etcd}:${plan.inputs.ports.etcdClient}`),
    ...(hosts === undefined ? {} : { tlsServerName: hosts.tlsServerName }),
    electionTtlSeconds: options.electionTtlSeconds,
    backend: options.backend,
    logLevel: options.logLevel,
    m3Version: options.m3Version,
    tls: options.tls,
    overrides: options.configOverrides.aggregator,
  });
  const aggregator = ["-f", AGGREGATOR_CONFIG_PATH];
  const httpReady = { kind: "http" as const, url: `http://${dialHost}:${ports.http}/health` };
  // Debug mode: the aggregator runs under a headless delve. Waiting for the debugger, the program is
  // stopped before main and only delve answers.
  const run = debug === undefined
    ? { entrypoint: ["/bin/m3aggregator"], command: aggregator, capabilities: [], wait: httpReady }
    : {
      entrypoint: ["/bin/dlv"],
      command: ["exec", "/bin/m3aggregator", "--headless", `--listen=${host}:${ports.debug}`, "--api-version=2",
        "--accept-multiclient", ...(debug.waitForDebugger ? [] : ["--continue"]), "--", ...aggregator],
      capabilities: ["SYS_PTRACE"], // delve traces the aggregator
      wait: debug.waitForDebugger ? { kind: "tcp" as const, host, port: ports.debug as number } : httpReady,
    };
  return {
    id,
    host,
    ports,
    tcpEndpoint: `${dialHost}:${ports.tcp}`,
    placementEndpoint: links?.ingestEndpoint ?? `${dialHost}:${ports.tcp}`,
    httpUrl: `http://${dialHost}:${ports.http}`,
    metricsUrl: `http://${dialHost}:${ports.metrics}/metrics`,
    config,
    container: {
      name: id,
      component: "m3aggregator",
      image,
      ...run,
      // The config resolves the host id from this variable; it must equal the placement instance id.
      env: { M3AGGREGATOR_HOST_ID: id },
      ...delivered(plan.inputs, plan.network, id, [{ content: config, target: AGGREGATOR_CONFIG_PATH }], true),
      tmpfs: {},
      startupTimeoutMs: STARTUP_TIMEOUT_MS.m3aggregator,
      labels: labelsOf(plan.inputs, "m3aggregator", ports, id),
      network: plan.network,
      ...(links === undefined ? {} : { extraHosts: links.extraHosts }),
    },
  };
}

/** The plan of a cluster: pure (same inputs, same plan). */
export function planCluster(inputs: PlanInputs): ClusterPlan {
  const { options, images } = inputs;
  const namedDns = options.network.model === "named" ? options.network.dns : undefined;
  // The named model's ports are fixed (never allocated): whatever the inputs say, they are these.
  const ports = namedDns === undefined ? inputs.ports : namedPortPlan(options.nodes);
  if (namedDns !== undefined) inputs = { ...inputs, ports };
  const host = ports.host;
  const network: NetworkModel = namedDns === undefined ? "loopback" : "named";
  const names = namedDns === undefined ? undefined
    : { dns: namedDns, namespace: options.clusterId, hosts: namedHosts(namedDns, options.clusterId, options.nodes) };
  const etcdHost = names?.hosts.etcd ?? host;
  const coordinatorHost = names?.hosts.coordinator ?? host;
  const nodes = ports.nodes.map((nodePorts, i) => planNode({ inputs, host, network, names }, i, nodePorts));
  const faults = planFaultsOf(inputs, nodes, network);
  const coordinatorConfig = renderCoordinatorConfig({
    host,
    port: ports.coordinator,
    metricsPort: ports.coordinatorMetrics,
    etcdClientPort: ports.etcdClient,
    etcdEndpoint: faults?.coordinatorEtcdEndpoint ?? (names === undefined ? undefined : `${etcdHost}:${ports.etcdClient}`),
    logLevel: options.logLevel,
    m3Version: options.m3Version,
    overrides: options.configOverrides.coordinator,
  });
  return {
    clusterId: options.clusterId,
    host,
    network,
    names,
    version: options.m3Version,
    source: options.m3Source,
    inputs,
    etcd: {
      clientPort: ports.etcdClient,
      peerPort: ports.etcdPeer,
      url: `http://${etcdHost}:${ports.etcdClient}`,
      container: {
        name: "etcd",
        component: "etcd",
        image: images.etcd.image,
        entrypoint: ["/usr/local/bin/etcd"],
        command: names === undefined ? etcdArgs(host, ports.etcdClient, ports.etcdPeer) : namedEtcdArgs(etcdHost, ports.etcdClient, ports.etcdPeer),
        env: {},
        files: [],
        mounts: [],
        tmpfs: { [ETCD_DATA_DIR]: "rw" },
        capabilities: [],
        wait: { kind: "http", url: `http://${etcdHost}:${ports.etcdClient}/health`, bodyIncludes: '"health":"true"' },
        startupTimeoutMs: STARTUP_TIMEOUT_MS.etcd,
        labels: labelsOf(inputs, "etcd", { client: ports.etcdClient, peer: ports.etcdPeer }),
        network,
      },
    },
    coordinator: {
      port: ports.coordinator,
      metricsPort: ports.coordinatorMetrics,
      adminUrl: `http://${coordinatorHost}:${ports.coordinator}`,
      config: coordinatorConfig,
      container: {
        name: "m3coordinator",
        component: "m3coordinator",
        image: images.m3coordinator.image,
        entrypoint: ["/bin/m3coordinator"],
        command: ["-f", COORDINATOR_CONFIG_PATH],
        env: {},
        ...delivered(inputs, network, "m3coordinator", [{ content: coordinatorConfig, target: COORDINATOR_CONFIG_PATH }]),
        tmpfs: {},
        capabilities: [],
        wait: { kind: "http", url: `http://${coordinatorHost}:${ports.coordinator}/health` },
        startupTimeoutMs: STARTUP_TIMEOUT_MS.m3coordinator,
        labels: labelsOf(inputs, "m3coordinator", { admin: ports.coordinator, metrics: ports.coordinatorMetrics }),
        network,
      },
    },
    nodes,
    placement: buildPlacementInitRequest({
      nodes: nodes.map((n) => ({ id: n.id, endpoint: n.placementEndpoint, debugPort: n.ports.debug })),
      rf: options.rf,
      numShards: options.numShards,
      isolationGroups: options.isolationGroups,
    }),
    faults,
    sink: options.backend === "sink" ? { topic: SINK_TOPIC } : undefined,
    order: startOrderOf(options.backend, options.debug?.waitForDebugger === true),
    readiness: options.debug?.waitForDebugger === true ? "debugger" : "election",
    tls: options.tls === undefined ? undefined : { settings: options.tls, hostDir: clusterTlsDirOf(options.clusterId), serverName: names?.hosts.tlsServerName ?? host },
  };
}

/** Every container of the plan, in the order the start runs them: the fault proxy (faults: true), etcd, the coordinator, the nodes. */
export function containerSpecs(plan: ClusterPlan): ContainerSpec[] {
  return [...(plan.faults === undefined ? [] : [plan.faults.container]), plan.etcd.container, plan.coordinator.container, ...plan.nodes.map((n) => n.container)];
}

/** The fault proxies of a `faults: true` plan: one Toxiproxy container, one proxy per link; else undefined. */
function planFaultsOf(inputs: PlanInputs, nodes: NodePlan[], network: NetworkModel): ClusterPlan["faults"] {
  const { options, ports, images } = inputs;
  if (!options.faults) return undefined;
  if (ports.faults === undefined || images.toxiproxy === undefined) throw new Error(`cluster ${options.clusterId}: faults without fault ports or a Toxiproxy image`);
  const faults = planFaults({
    image: images.toxiproxy.image, host: ports.host, etcdClientPort: ports.etcdClient, ports: ports.faults,
    nodes: nodes.map((n) => ({ id: n.id, tcpPort: n.ports.tcp })),
  });
  return {
    ...faults,
    container: {
      name: "toxiproxy",
      component: "toxiproxy",
      image: faults.image,
      entrypoint: ["/usr/local/bin/toxiproxy"],
      command: faults.args,
      env: {},
      files: [],
      mounts: [],
      tmpfs: {},
      capabilities: [],
      wait: { kind: "http", url: `${faults.apiUrl}/version` },
      startupTimeoutMs: 30_000,
      labels: labelsOf(inputs, "toxiproxy", ports.faults),
      network,
    },
  };
}
