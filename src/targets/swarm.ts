/**
 * The cluster plan as a Docker Swarm stack (`docker stack deploy -c docker-stack.yml <clusterId>`):
 * a pure function of the plan (and, with TLS on, of the certificates' contents).
 *
 * - one service per component and per aggregator node (`m3aggregator-<i>`: its own host id and
 *   placement constraint), so a node is a task that Swarm keeps on one engine;
 * - an overlay network with `endpoint_mode: dnsrr` (a service name resolves to its task's address:
 *   the names of the placement); published ports `mode: host` (never the ingress routing mesh);
 * - configs as Swarm configs (files next to the stack file), TLS included;
 * - node i runs on a Swarm node labelled `m3agg-isolation-group=<its placement isolation group>`,
 *   so the replicas of a shard set run on different engines;
 * - the same constraints as Kubernetes' `restricted`: a non-root user, read-only root, no capabilities.
 */
import { stringify } from "yaml";
import { type ClusterPlan, encodePlanLabel } from "../plan/plan";
import { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE, LABEL_PLAN } from "../model/labels";
import { RUN_AS, type TlsFiles, type Workload, workloadsOf } from "./workloads";

/** The Swarm node label that places an aggregator: its placement isolation group. */
export const ISOLATION_GROUP_NODE_LABEL = "m3agg-isolation-group";
/** Name of the stack's overlay network (Swarm prefixes it with the stack name). */
export const STACK_NETWORK = "m3agg";
/** Where published ports start on each engine's host: node i publishes tcp/http/metrics at base+10i+3/+1/+2. */
export const PUBLISHED_BASE = { node: 16000, coordinator: 17201 } as const;

/** Host ports a node publishes (mode host, on whichever engine runs it). */
export function publishedNodePorts(index: number): { http: number; metrics: number; tcp: number } {
  const base = PUBLISHED_BASE.node + 10 * index;
  return { http: base + 1, metrics: base + 2, tcp: base + 3 };
}

/**
 * Where the containers reach the fixture's in-process sink (backend "sink"): each engine's own
 * address (`host-gateway`, dockerd --host-gateway-ip), on which the engine's relay forwards to the
 * test process (scripts/netns-relay.mjs).
 */
export const SINK_RELAY = { host: "host.docker.internal", port: 19000 } as const;

/** A rendered stack: the compose document and the config files it names (relative paths). */
export interface SwarmStack {
  /** Stack name: the cluster id. */
  name: string;
  compose: Record<string, unknown>;
  /** File name (next to the stack file) → content. */
  files: Record<string, string>;
}

/** Compose's name of a config: the file key with dots made dashes. */
const configName = (key: string) => key.replace(/[^A-Za-z0-9-]/g, "-");

function serviceOf(plan: ClusterPlan, w: Workload, published: Array<{ target: number; published: number }>, constraints: string[], node?: string): Record<string, unknown> {
  const reachesSink = w.component === "m3aggregator" && plan.inputs.options.backend === "sink";
  const [entrypoint, ...command] = w.command;
  const labels = {
    [LABEL_CLUSTER]: plan.clusterId,
    [LABEL_COMPONENT]: w.component,
    ...(node === undefined ? {} : { [LABEL_NODE]: node }),
  };
  return {
    image: w.image,
    entrypoint: [entrypoint],
    command,
    ...(Object.keys(w.env).length === 0 ? {} : { environment: w.env }),
    user: `${RUN_AS.uid}:${RUN_AS.gid}`,
    read_only: true,
    cap_drop: ["ALL"],
    hostname: w.name,
    ...(reachesSink ? { extra_hosts: [`${SINK_RELAY.host}:host-gateway`] } : {}),
    labels,
    networks: [STACK_NETWORK],
    ...(w.files.length === 0 ? {} : {
      configs: w.files.map((f) => ({ source: configName(f.key), target: f.path, uid: String(RUN_AS.uid), gid: String(RUN_AS.gid), mode: f.secret ? 0o440 : 0o444 })),
    }),
    ...(w.scratchDirs.length === 0 ? {} : { volumes: w.scratchDirs.map((target) => ({ type: "tmpfs", target })) }),
    ...(published.length === 0 ? {} : { ports: published.map((p) => ({ target: p.target, published: p.published, protocol: "tcp", mode: "host" })) }),
    deploy: {
      mode: "replicated",
      replicas: 1,
      endpoint_mode: "dnsrr",
      // A killed node comes back (as a follower: its replica took over meanwhile).
      restart_policy: { condition: "on-failure", delay: "1s" },
      ...(constraints.length === 0 ? {} : { placement: { constraints } }),
      labels,
    },
  };
}

/**
 * The cluster plan as a Swarm stack. Throws for a plan of the loopback model, and for a TLS plan
 * without `tls` (the certificates' contents).
 */
export function renderSwarmStack(plan: ClusterPlan, tls?: TlsFiles): SwarmStack {
  const w = workloadsOf(plan, tls);
  const files: Record<string, string> = {};
  for (const f of [w.etcd, w.coordinator, ...w.nodes].flatMap((x) => x.files)) files[f.key] = f.content;
  const services: Record<string, unknown> = {
    [w.etcd.name]: serviceOf(plan, w.etcd, [], []),
    [w.coordinator.name]: serviceOf(plan, w.coordinator, [{ target: plan.coordinator.port, published: PUBLISHED_BASE.coordinator }], []),
  };
  w.nodes.forEach((n, i) => {
    const group = plan.placement.instances.find((instance) => instance.id === n.name)?.isolation_group;
    if (group === undefined) throw new Error(`cluster ${plan.clusterId}: node ${n.name} is not in the placement request`);
    const pub = publishedNodePorts(i);
    const port = (name: string) => n.ports.find((p) => p.name === name)?.port ?? 0;
    services[n.name] = serviceOf(plan, n, [
      { target: port("tcp"), published: pub.tcp },
      { target: port("http"), published: pub.http },
      { target: port("metrics"), published: pub.metrics },
    ], [`node.labels.${ISOLATION_GROUP_NODE_LABEL} == ${group}`], n.name);
  });
  const compose = {
    version: "3.8",
    services,
    networks: { [STACK_NETWORK]: { driver: "overlay", labels: { [LABEL_CLUSTER]: plan.clusterId, [LABEL_PLAN]: encodePlanLabel(plan.inputs) } } },
    configs: Object.fromEntries(Object.keys(files).map((key) => [configName(key), { file: `./${key}` }])),
  };
  return { name: plan.clusterId, compose, files };
}

/** The stack file's text. */
export function swarmStackYaml(stack: SwarmStack): string {
  return stringify(stack.compose, { lineWidth: 0, aliasDuplicateObjects: false });
}
