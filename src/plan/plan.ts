/**
 * The cluster plan: everything a start decides before it runs anything, as one plain value.
 * A pure function of (resolved options, allocated ports, resolved images): instance ids,
 * endpoints, rendered configs, container labels, etcd's arguments, the placement request,
 * and references (never contents) of the TLS files. The start pipeline runs the plan; an
 * attach reads the same inputs back from the `org.m3agg.plan` label and calls the same function.
 */
import { buildPlacementInitRequest } from "../m3/placement";
import type { PlacementInitRequest } from "../m3/types";
import { renderAggregatorConfig, renderCoordinatorConfig } from "../m3/config-render";
import type { Component, ImageComponent, ResolvedImage } from "../model/components";
import { identityLabels, LABEL_PLAN } from "../model/labels";
import type { M3Version } from "../model/versions";
import type { ResolvedClusterOptions } from "../model/options";
import type { NodePorts, PortPlan } from "../model/network";
import { CONTAINER_TLS_FILES, type TlsSettings } from "../model/tls";
import { tlsDirOf } from "../tls/material";

/** Version of the plan label's JSON; a label of another version is not attached to. */
export const PLAN_LABEL_VERSION = 1;

/** The images a plan runs: etcd, coordinator and aggregator always, the debug aggregator with `debug`. */
export type PlanImages = Record<Component, ResolvedImage> & Partial<Record<ImageComponent, ResolvedImage>>;

/** What a plan is made of: the only state a cluster keeps (in its plan label). */
export interface PlanInputs {
  options: ResolvedClusterOptions;
  ports: PortPlan;
  images: PlanImages;
}

/** One aggregator node of the plan. */
export interface NodePlan {
  /** Instance id = host id = placement instance id: m3aggregator01, m3aggregator02, … */
  id: string;
  ports: NodePorts;
  /** `${host}:${tcp}`: the node's raw TCP address, and its endpoint in the placement. */
  tcpEndpoint: string;
  httpUrl: string;
  metricsUrl: string;
  /** The image the node runs (the debug image in debug mode). */
  image: string;
  /** m3aggregator.yml of this node. */
  config: string;
  /** Docker labels of its container (owner labels are added when it is created). */
  labels: Record<string, string>;
}

/** The whole plan of one cluster. */
export interface ClusterPlan {
  clusterId: string;
  /** Address every listener binds and every client dials. */
  host: string;
  version: M3Version;
  /** Local m3 checkout the images were built from, or undefined for release images. */
  source: string | undefined;
  inputs: PlanInputs;
  etcd: { image: string; clientPort: number; peerPort: number; endpoint: string; args: string[]; labels: Record<string, string> };
  coordinator: { image: string; port: number; metricsPort: number; adminUrl: string; config: string; labels: Record<string, string> };
  nodes: NodePlan[];
  /** The aggregator placement to create (its shards are then cut over at once: see m3/create-placement.ts). */
  placement: PlacementInitRequest;
  /** TLS file references, or undefined when TLS is off: the host folder and the paths in the containers. */
  tls: { settings: TlsSettings; hostDir: string; containerFiles: typeof CONTAINER_TLS_FILES } | undefined;
}

/** Instance id of node `index` (0-based): m3aggregator01, m3aggregator02, … as in the seed. */
export function instanceIdOf(index: number): string {
  return `m3aggregator${String(index + 1).padStart(2, "0")}`;
}

/** The data dir of etcd inside its container (a tmpfs). */
export const ETCD_DATA_DIR = "/var/lib/etcd";

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

/** The plan label's value: `{ "v": 1, options, ports, images }`. */
export function encodePlanLabel(inputs: PlanInputs): string {
  return JSON.stringify({ v: PLAN_LABEL_VERSION, options: inputs.options, ports: inputs.ports, images: inputs.images });
}

/** Reads a plan label back; throws naming the rule when it is not one this version wrote. */
export function decodePlanLabel(text: string): PlanInputs {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`label ${LABEL_PLAN} is not JSON: ${(error as Error).message}`);
  }
  const v = (value as { v?: unknown } | null)?.v;
  if (v !== PLAN_LABEL_VERSION) throw new Error(`label ${LABEL_PLAN} has version ${JSON.stringify(v)}, this package reads version ${PLAN_LABEL_VERSION}`);
  const { options, ports, images } = value as Partial<PlanInputs>;
  if (options === undefined || ports === undefined || images === undefined) {
    throw new Error(`label ${LABEL_PLAN} lacks ${[options === undefined && "options", ports === undefined && "ports", images === undefined && "images"].filter(Boolean).join(", ")}`);
  }
  return { options, ports, images };
}

/** The plan of a cluster: pure (same inputs, same plan). */
export function planCluster(inputs: PlanInputs): ClusterPlan {
  const { options, ports, images } = inputs;
  const host = ports.host;
  const cluster = { clusterId: options.clusterId, reuseKey: options.reuseKey };
  const planLabel = { [LABEL_PLAN]: encodePlanLabel(inputs) };
  const labelsOf = (component: Component, componentPorts: object, node?: string) => ({ ...identityLabels(cluster, component, componentPorts, node), ...planLabel });
  const nodeImage = options.debug === undefined ? images.m3aggregator.image : images.m3aggregatorDebug?.image;
  if (nodeImage === undefined) throw new Error(`cluster ${options.clusterId}: debug mode without a debug image`);
  const nodes = ports.nodes.map((nodePorts, i): NodePlan => {
    const id = instanceIdOf(i);
    return {
      id,
      ports: nodePorts,
      tcpEndpoint: `${host}:${nodePorts.tcp}`,
      httpUrl: `http://${host}:${nodePorts.http}`,
      metricsUrl: `http://${host}:${nodePorts.metrics}/metrics`,
      image: nodeImage,
      config: renderAggregatorConfig({
        host,
        ports: nodePorts,
        etcdClientPort: ports.etcdClient,
        electionTtlSeconds: options.electionTtlSeconds,
        backend: options.backend,
        logLevel: options.logLevel,
        m3Version: options.m3Version,
        tls: options.tls,
        overrides: options.configOverrides.aggregator,
      }),
      labels: labelsOf("m3aggregator", nodePorts, id),
    };
  });
  return {
    clusterId: options.clusterId,
    host,
    version: options.m3Version,
    source: options.m3Source,
    inputs,
    etcd: {
      image: images.etcd.image,
      clientPort: ports.etcdClient,
      peerPort: ports.etcdPeer,
      endpoint: `http://${host}:${ports.etcdClient}`,
      args: etcdArgs(host, ports.etcdClient, ports.etcdPeer),
      labels: labelsOf("etcd", { client: ports.etcdClient, peer: ports.etcdPeer }),
    },
    coordinator: {
      image: images.m3coordinator.image,
      port: ports.coordinator,
      metricsPort: ports.coordinatorMetrics,
      adminUrl: `http://${host}:${ports.coordinator}`,
      config: renderCoordinatorConfig({
        host,
        port: ports.coordinator,
        metricsPort: ports.coordinatorMetrics,
        etcdClientPort: ports.etcdClient,
        logLevel: options.logLevel,
        m3Version: options.m3Version,
        overrides: options.configOverrides.coordinator,
      }),
      labels: labelsOf("m3coordinator", { admin: ports.coordinator, metrics: ports.coordinatorMetrics }),
    },
    nodes,
    placement: buildPlacementInitRequest({
      nodes: nodes.map((n) => ({ id: n.id, endpoint: n.tcpEndpoint, debugPort: n.ports.debug })),
      rf: options.rf,
      numShards: options.numShards,
      isolationGroups: options.isolationGroups,
    }),
    tls: options.tls === undefined ? undefined : { settings: options.tls, hostDir: tlsDirOf(options.clusterId), containerFiles: CONTAINER_TLS_FILES },
  };
}
