/**
 * How the containers of a plan reach each other, and what clients dial.
 *
 * - `loopback` (the default, one Docker engine): every container shares the host's network
 *   namespace and listens on the plan's host address; ports are allocated, reserved across
 *   processes and retried on a bind failure.
 * - `named` (Kubernetes, Docker Swarm): every container has its own address, so ports are fixed
 *   (the same on every node), every listener binds 0.0.0.0, and the placement's endpoints, the
 *   etcd endpoint and the admin URL are DNS names of the engine's service discovery. Nothing is
 *   allocated, reserved or retried: the engine owns the addresses.
 *
 * Pure: names and ports only; the renderers (targets/) and the plan read them.
 */
import type { NodePorts, PortPlan } from "../ports";
import type { NamedDns } from "./options";

export type { NamedDns, NetworkOption } from "./options";
export { DNS_LABEL } from "./options";

/** Where every listener of the named model binds. */
export const ANY_ADDRESS = "0.0.0.0";

/** The named model's fixed ports: m3's and etcd's usual ones (the fixtures' templates use the same). */
export const NAMED_PORTS = {
  etcdClient: 2379,
  etcdPeer: 2380,
  coordinator: 7201,
  coordinatorMetrics: 7203,
  node: { http: 6001, metrics: 6002, tcp: 6003 } satisfies NodePorts,
} as const;

/** Service (and StatefulSet) names: etcd, the coordinator, the aggregators' headless service. */
export const SERVICE_NAMES = { etcd: "etcd", coordinator: "m3coordinator", aggregators: "m3aggregator" } as const;

/**
 * Instance id of node `index` in the named model: the StatefulSet's pod name (`m3aggregator-0`, …),
 * which is also the node's host id (env var from the pod name) and, in Swarm, its service name.
 */
export function namedNodeId(index: number): string {
  return `${SERVICE_NAMES.aggregators}-${index}`;
}

/** The DNS names every component is reached by. */
export interface NamedHosts {
  etcd: string;
  coordinator: string;
  /** One per node, in index order. */
  nodes: string[];
  /** The name the aggregators' server certificate carries and their TLS clients verify. */
  tlsServerName: string;
}

/**
 * DNS names of the named model.
 * - kubernetes: `etcd-0.etcd.<ns>.svc` (StatefulSet pod behind a headless Service),
 *   `m3coordinator.<ns>.svc`, `m3aggregator-<i>.m3aggregator.<ns>.svc`.
 * - swarm: the service names on the stack's overlay network (`etcd`, `m3coordinator`, `m3aggregator-<i>`).
 */
export function namedHosts(dns: NamedDns, namespace: string, nodes: number): NamedHosts {
  const ids = Array.from({ length: nodes }, (_, i) => namedNodeId(i));
  if (dns === "kubernetes") {
    const svc = (name: string) => `${name}.${namespace}.svc`;
    return {
      etcd: `${SERVICE_NAMES.etcd}-0.${svc(SERVICE_NAMES.etcd)}`,
      coordinator: svc(SERVICE_NAMES.coordinator),
      nodes: ids.map((id) => `${id}.${svc(SERVICE_NAMES.aggregators)}`),
      tlsServerName: svc(SERVICE_NAMES.aggregators),
    };
  }
  return { etcd: SERVICE_NAMES.etcd, coordinator: SERVICE_NAMES.coordinator, nodes: ids, tlsServerName: SERVICE_NAMES.aggregators };
}

/** The port plan of the named model: the fixed ports on 0.0.0.0, the same on every node. */
export function namedPortPlan(nodes: number): PortPlan {
  return {
    host: ANY_ADDRESS,
    etcdClient: NAMED_PORTS.etcdClient,
    etcdPeer: NAMED_PORTS.etcdPeer,
    coordinator: NAMED_PORTS.coordinator,
    coordinatorMetrics: NAMED_PORTS.coordinatorMetrics,
    nodes: Array.from({ length: nodes }, () => ({ ...NAMED_PORTS.node })),
  };
}
