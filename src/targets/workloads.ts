/**
 * The workloads of a named-model plan, in the shape the engine renderers (Kubernetes, Swarm)
 * read: per component its image, command, environment, files, ports and readiness, read from the
 * plan's container specs (plan/spec.ts). A pure view of the {@link ClusterPlan}: the renderers
 * never decide anything the plan did not.
 */
import type { ClusterPlan, ContainerSpec, FileSpec } from "../plan/plan";
import type { NamedHosts } from "../plan/network";
import { CONTAINER_TLS_DIR } from "../model/tls";
import type { ContainerComponent } from "../model/components";

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
  component: ContainerComponent;
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

/** The env var m3aggregator's config resolves its host id from (fixtures/m3aggregator.yml). */
export const HOST_ID_ENV = "M3AGGREGATOR_HOST_ID";

/** The TLS files' contents by their file name (the spec names them by reference: a host path). */
function tlsContentOf(name: string, tls: TlsFiles): string | undefined {
  const byName: Record<string, string> = {
    "ca.pem": tls.ca, "server.pem": tls.serverCert, "server-key.pem": tls.serverKey, "client.pem": tls.clientCert, "client-key.pem": tls.clientKey,
  };
  return byName[name];
}

/** A file of a spec: inline content as is; a TLS file by reference gets its content from `tls`. */
function fileOf(plan: ClusterPlan, spec: ContainerSpec, f: FileSpec, tls: TlsFiles | undefined): WorkloadFile {
  const key = f.target.slice(f.target.lastIndexOf("/") + 1);
  if ("content" in f) return { key, path: f.target, content: f.content, secret: false };
  const content = f.target.startsWith(`${CONTAINER_TLS_DIR}/`) && tls !== undefined ? tlsContentOf(key, tls) : undefined;
  if (content === undefined) {
    throw new Error(`cluster ${plan.clusterId}: ${spec.name} reads ${f.target} from ${f.hostPath}${tls === undefined ? ": the plan has TLS on, so its certificates are needed to render it" : ", which is no TLS file"}`);
  }
  return { key, path: f.target, content, secret: true };
}

/** A container spec as a workload, with the ports its engine must expose. */
function workloadOf(plan: ClusterPlan, spec: ContainerSpec, ports: Workload["ports"], tls: TlsFiles | undefined): Workload {
  if (spec.wait.kind !== "http") throw new Error(`cluster ${plan.clusterId}: ${spec.name} waits on TCP, which no engine probe of the named model renders`);
  const url = new URL(spec.wait.url);
  return {
    name: spec.name,
    component: spec.component,
    image: spec.image,
    command: [...spec.entrypoint, ...spec.command],
    env: { ...spec.env },
    files: spec.files.map((f) => fileOf(plan, spec, f, tls)),
    ports,
    readiness: { path: url.pathname, port: Number(url.port) },
    scratchDirs: Object.keys(spec.tmpfs),
  };
}

/** The plan's workloads: etcd, the coordinator, one per aggregator node. */
export interface Workloads {
  namespace: string;
  hosts: NamedHosts;
  etcd: Workload;
  coordinator: Workload;
  nodes: Workload[];
}

/** Throws naming the rule when the plan is not of the named model (a loopback plan has no DNS names to render). */
export function workloadsOf(plan: ClusterPlan, tls?: TlsFiles): Workloads {
  const names = plan.names;
  if (plan.network !== "named" || names === undefined) {
    throw new Error(`cluster ${plan.clusterId}: only a plan of the named network model renders for an engine (this one is ${plan.network}): start it with target swarm or kubernetes`);
  }
  if (plan.tls !== undefined && tls === undefined) throw new Error(`cluster ${plan.clusterId}: the plan has TLS on, so its certificates are needed to render it`);
  const configs = new Set(plan.nodes.map((n) => n.config));
  if (configs.size !== 1) throw new Error(`cluster ${plan.clusterId}: the named model needs one aggregator config for all nodes, the plan has ${configs.size}`);
  return {
    namespace: names.namespace,
    hosts: names.hosts,
    etcd: workloadOf(plan, plan.etcd.container, [{ name: "client", port: plan.etcd.clientPort }], tls),
    coordinator: workloadOf(plan, plan.coordinator.container, [{ name: "admin", port: plan.coordinator.port }, { name: "metrics", port: plan.coordinator.metricsPort }], tls),
    nodes: plan.nodes.map((n) => workloadOf(plan, n.container, [{ name: "tcp", port: n.ports.tcp }, { name: "http", port: n.ports.http }, { name: "metrics", port: n.ports.metrics }], tls)),
  };
}
