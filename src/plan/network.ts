/**
 * The names and ports of the `named` network model (model/network.ts says what the models are):
 * DNS names per engine, fixed ports on 0.0.0.0. Pure; the plan and the renderers (targets/) read them.
 */
import { ANY_ADDRESS, NAMED_PORTS, type NamedDns, type PortPlan, SERVICE_NAMES } from "../model/network";

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
