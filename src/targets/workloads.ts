/**
 * The workloads of a named-model plan, in the shape the engine renderers (Kubernetes, Swarm)
 * read: per component its image, command, environment, files, ports and readiness. A pure
 * view of the {@link ClusterPlan}: the renderers never decide anything the plan did not.
 */
import { type ClusterPlan, ETCD_DATA_DIR, type NodePlan } from "../plan/plan";
import { SERVICE_NAMES } from "../model/network";
import type { NamedHosts } from "../plan/network";
import { CONTAINER_TLS_FILES } from "../model/tls";
import type { Component } from "../model/components";

/** The config file paths the components read (the same as in the loopback containers). */
export const CONFIG_PATHS = {
  m3aggregator: "/etc/m3aggregator/m3aggregator.yml",
  m3coordinator: "/etc/m3coordinator/m3coordinator.yml",
} as const;

/** The unprivileged user every container runs as (the images are FROM scratch: any uid works). */
export const RUN_AS = { uid: 65532, gid: 65532 } as const;

/** A file a component reads, by content. */
export interface WorkloadFile {
  /** Key in the ConfigMap/Secret, name of the Swarm config. */
  key: string;
  path: string;
  content: string;
  /** TLS material: a Secret on Kubernetes (else the ConfigMap). */
  secret: boolean;
}

/** One component of the plan as the engines run it. */
export interface Workload {
  /** Service name (= DNS name on Swarm; StatefulSet/Deployment name on Kubernetes). */
  name: string;
  component: Component;
  image: string;
  /** The full command: entrypoint and arguments. */
  command: string[];
  env: Record<string, string>;
  files: WorkloadFile[];
  ports: Array<{ name: string; port: number }>;
  /** Ready when GET http://<pod>:<port><path> answers 200. */
  readiness: { path: string; port: number };
  /** Memory-backed writable directories. */
  scratchDirs: string[];
}

/** The TLS files' contents (the plan holds references only): given to the renderers by the caller. */
export interface TlsFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** The plan's workloads: etcd, the coordinator, one per aggregator node. */
export interface Workloads {
  namespace: string;
  hosts: NamedHosts;
  etcd: Workload;
  coordinator: Workload;
  nodes: Workload[];
  /** The aggregators' config: one file for every node in the named model (the host id comes from the environment). */
  aggregatorConfig: string;
}

/** The env var m3aggregator's config resolves its host id from (fixtures/m3aggregator.yml). */
export const HOST_ID_ENV = "M3AGGREGATOR_HOST_ID";

function tlsWorkloadFiles(tls: TlsFiles): WorkloadFile[] {
  const f = CONTAINER_TLS_FILES;
  return [
    { key: "ca.pem", path: f.ca, content: tls.ca, secret: true },
    { key: "server.pem", path: f.serverCert, content: tls.serverCert, secret: true },
    { key: "server-key.pem", path: f.serverKey, content: tls.serverKey, secret: true },
    { key: "client.pem", path: f.clientCert, content: tls.clientCert, secret: true },
    { key: "client-key.pem", path: f.clientKey, content: tls.clientKey, secret: true },
  ];
}

/** Throws naming the rule when the plan is not of the named model (a loopback plan has no DNS names to render). */
export function workloadsOf(plan: ClusterPlan, tls?: TlsFiles): Workloads {
  const network = plan.network;
  if (network.model !== "named") {
    throw new Error(`cluster ${plan.clusterId}: only a plan of the named network model renders for an engine (this one is ${network.model}): start it with target swarm or kubernetes`);
  }
  if (plan.tls !== undefined && tls === undefined) throw new Error(`cluster ${plan.clusterId}: the plan has TLS on, so its certificates are needed to render it`);
  const configs = new Set(plan.nodes.map((n) => n.config));
  if (configs.size !== 1) throw new Error(`cluster ${plan.clusterId}: the named model needs one aggregator config for all nodes, the plan has ${configs.size}`);
  const aggregatorConfig = plan.nodes[0]?.config ?? "";
  const tlsFiles = plan.tls === undefined || tls === undefined ? [] : tlsWorkloadFiles(tls);
  const node = (n: NodePlan): Workload => ({
    name: n.id,
    component: "m3aggregator",
    image: n.image,
    command: ["/bin/m3aggregator", "-f", CONFIG_PATHS.m3aggregator],
    env: { [HOST_ID_ENV]: n.id },
    files: [{ key: "m3aggregator.yml", path: CONFIG_PATHS.m3aggregator, content: n.config, secret: false }, ...tlsFiles],
    ports: [{ name: "tcp", port: n.ports.tcp }, { name: "http", port: n.ports.http }, { name: "metrics", port: n.ports.metrics }],
    readiness: { path: "/health", port: n.ports.http },
    scratchDirs: [],
  });
  return {
    namespace: network.namespace,
    hosts: network.hosts,
    aggregatorConfig,
    etcd: {
      name: SERVICE_NAMES.etcd,
      component: "etcd",
      image: plan.etcd.image,
      command: ["/usr/local/bin/etcd", ...plan.etcd.args],
      env: {},
      files: [],
      ports: [{ name: "client", port: plan.etcd.clientPort }],
      readiness: { path: "/health", port: plan.etcd.clientPort },
      scratchDirs: [ETCD_DATA_DIR],
    },
    coordinator: {
      name: SERVICE_NAMES.coordinator,
      component: "m3coordinator",
      image: plan.coordinator.image,
      command: ["/bin/m3coordinator", "-f", CONFIG_PATHS.m3coordinator],
      env: {},
      files: [{ key: "m3coordinator.yml", path: CONFIG_PATHS.m3coordinator, content: plan.coordinator.config, secret: false }],
      ports: [{ name: "admin", port: plan.coordinator.port }, { name: "metrics", port: plan.coordinator.metricsPort }],
      readiness: { path: "/health", port: plan.coordinator.port },
      scratchDirs: [],
    },
    nodes: plan.nodes.map(node),
  };
}
