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
import type { Component } from "../model/components";
import { identityLabels, LABEL_PLAN } from "../model/labels";
import type { M3Version } from "../model/versions";
import type { NetworkModel, NodePorts } from "../model/network";
import { CONTAINER_TLS_DIR, TLS_FILES, type TlsSettings } from "../model/tls";
import { tlsDirOf } from "../tls/material";
import { encodePlanLabel, type PlanInputs } from "./label";
import type { ContainerSpec, FileSpec } from "./spec";

export { decodePlanLabel, encodePlanLabel, PLAN_LABEL_VERSION, type PlanImages, type PlanInputs } from "./label";
export type { ContainerSpec, FileSpec, WaitSpec } from "./spec";

/** One aggregator node of the plan. */
export interface NodePlan {
  /** Instance id = host id = placement instance id: m3aggregator01, m3aggregator02, … */
  id: string;
  /** Address the node's listeners bind and clients dial. */
  host: string;
  ports: NodePorts;
  /** `${host}:${tcp}`: the node's raw TCP address, and its endpoint in the placement. */
  tcpEndpoint: string;
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
  version: M3Version;
  /** Local m3 checkout the images were built from, or undefined for release images. */
  source: string | undefined;
  inputs: PlanInputs;
  etcd: { clientPort: number; peerPort: number; url: string; container: ContainerSpec };
  coordinator: { port: number; metricsPort: number; adminUrl: string; config: string; container: ContainerSpec };
  nodes: NodePlan[];
  /** The aggregator placement to create (its shards are then cut over at once: see m3/create-placement.ts). */
  placement: PlacementInitRequest;
  /**
   * Backend "sink": the m3msg topic the aggregators flush to. They exit without it, so they start
   * once the placement phase registered the sink. Undefined for the other backends.
   */
  sink: { topic: string } | undefined;
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

/** What {@link planNode} needs of the plan it adds a node to. */
export type NodeContext = Pick<ClusterPlan, "inputs" | "host" | "network">;

/** Identity labels of a container of the plan, the plan label included. */
function labelsOf(inputs: PlanInputs, component: Component, componentPorts: object, node?: string): Record<string, string> {
  const { clusterId, reuseKey } = inputs.options;
  return { ...identityLabels({ clusterId, reuseKey }, component, componentPorts, node), [LABEL_PLAN]: encodePlanLabel(inputs) };
}

/** The TLS files every aggregator container gets (read from the cluster's TLS folder when it starts). */
function tlsFiles(inputs: PlanInputs): FileSpec[] {
  if (inputs.options.tls === undefined) return [];
  const dir = tlsDirOf(inputs.options.clusterId);
  return TLS_FILES.map((f) => ({ hostPath: `${dir}/${f.name}`, target: `${CONTAINER_TLS_DIR}/${f.name}`, mode: f.mode }));
}

/**
 * Node `index` (0-based) of a plan, on `ports`: pure. planCluster makes every node with it; a node
 * added to a running cluster later is planned the same way, with the next index and its own ports.
 */
export function planNode(plan: NodeContext, index: number, ports: NodePorts): NodePlan {
  const { options, images } = plan.inputs;
  const host = plan.host;
  const id = instanceIdOf(index);
  const debug = options.debug;
  const image = debug === undefined ? images.m3aggregator.image : images.m3aggregatorDebug?.image;
  if (image === undefined) throw new Error(`cluster ${options.clusterId}: debug mode without a debug image`);
  if (debug !== undefined && ports.debug === undefined) throw new Error(`${id}: debug mode without a debug port`);
  const config = renderAggregatorConfig({
    host,
    ports,
    etcdClientPort: plan.inputs.ports.etcdClient,
    electionTtlSeconds: options.electionTtlSeconds,
    backend: options.backend,
    logLevel: options.logLevel,
    m3Version: options.m3Version,
    tls: options.tls,
    overrides: options.configOverrides.aggregator,
  });
  const aggregator = ["-f", AGGREGATOR_CONFIG_PATH];
  const httpReady = { kind: "http" as const, url: `http://${host}:${ports.http}/health` };
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
    tcpEndpoint: `${host}:${ports.tcp}`,
    httpUrl: `http://${host}:${ports.http}`,
    metricsUrl: `http://${host}:${ports.metrics}/metrics`,
    config,
    container: {
      name: id,
      component: "m3aggregator",
      image,
      ...run,
      // The config resolves the host id from this variable; it must equal the placement instance id.
      env: { M3AGGREGATOR_HOST_ID: id },
      files: [{ content: config, target: AGGREGATOR_CONFIG_PATH }, ...tlsFiles(plan.inputs)],
      tmpfs: {},
      startupTimeoutMs: STARTUP_TIMEOUT_MS.m3aggregator,
      labels: labelsOf(plan.inputs, "m3aggregator", ports, id),
      network: plan.network,
    },
  };
}

/** The plan of a cluster: pure (same inputs, same plan). */
export function planCluster(inputs: PlanInputs): ClusterPlan {
  const { options, ports, images } = inputs;
  const host = ports.host;
  const network: NetworkModel = "loopback";
  const nodes = ports.nodes.map((nodePorts, i) => planNode({ inputs, host, network }, i, nodePorts));
  const coordinatorConfig = renderCoordinatorConfig({
    host,
    port: ports.coordinator,
    metricsPort: ports.coordinatorMetrics,
    etcdClientPort: ports.etcdClient,
    logLevel: options.logLevel,
    m3Version: options.m3Version,
    overrides: options.configOverrides.coordinator,
  });
  return {
    clusterId: options.clusterId,
    host,
    network,
    version: options.m3Version,
    source: options.m3Source,
    inputs,
    etcd: {
      clientPort: ports.etcdClient,
      peerPort: ports.etcdPeer,
      url: `http://${host}:${ports.etcdClient}`,
      container: {
        name: "etcd",
        component: "etcd",
        image: images.etcd.image,
        entrypoint: ["/usr/local/bin/etcd"],
        command: etcdArgs(host, ports.etcdClient, ports.etcdPeer),
        env: {},
        files: [],
        tmpfs: { [ETCD_DATA_DIR]: "rw" },
        capabilities: [],
        wait: { kind: "http", url: `http://${host}:${ports.etcdClient}/health`, bodyIncludes: '"health":"true"' },
        startupTimeoutMs: STARTUP_TIMEOUT_MS.etcd,
        labels: labelsOf(inputs, "etcd", { client: ports.etcdClient, peer: ports.etcdPeer }),
        network,
      },
    },
    coordinator: {
      port: ports.coordinator,
      metricsPort: ports.coordinatorMetrics,
      adminUrl: `http://${host}:${ports.coordinator}`,
      config: coordinatorConfig,
      container: {
        name: "m3coordinator",
        component: "m3coordinator",
        image: images.m3coordinator.image,
        entrypoint: ["/bin/m3coordinator"],
        command: ["-f", COORDINATOR_CONFIG_PATH],
        env: {},
        files: [{ content: coordinatorConfig, target: COORDINATOR_CONFIG_PATH }],
        tmpfs: {},
        capabilities: [],
        wait: { kind: "http", url: `http://${host}:${ports.coordinator}/health` },
        startupTimeoutMs: STARTUP_TIMEOUT_MS.m3coordinator,
        labels: labelsOf(inputs, "m3coordinator", { admin: ports.coordinator, metrics: ports.coordinatorMetrics }),
        network,
      },
    },
    nodes,
    placement: buildPlacementInitRequest({
      nodes: nodes.map((n) => ({ id: n.id, endpoint: n.tcpEndpoint, debugPort: n.ports.debug })),
      rf: options.rf,
      numShards: options.numShards,
      isolationGroups: options.isolationGroups,
    }),
    sink: options.backend === "sink" ? { topic: SINK_TOPIC } : undefined,
    readiness: options.debug?.waitForDebugger === true ? "debugger" : "election",
    tls: options.tls === undefined ? undefined : { settings: options.tls, hostDir: tlsDirOf(options.clusterId), serverName: host },
  };
}

/** Every container of the plan, in the order the start runs them: etcd, the coordinator, the nodes. */
export function containerSpecs(plan: ClusterPlan): ContainerSpec[] {
  return [plan.etcd.container, plan.coordinator.container, ...plan.nodes.map((n) => n.container)];
}
