/** Addresses and ports: where the cluster's listeners bind and what clients dial. */

/** The default host every listener binds to and every client dials. */
export const LOOPBACK = "127.0.0.1";

/**
 * How the containers of a plan reach each other.
 * - "loopback" (target docker, one engine): every container shares the host's network namespace
 *   and listens on the plan's host address (no port mapping); ports are allocated, reserved across
 *   processes and retried on a bind failure.
 * - "named" (targets swarm and kubernetes): every container has its own address, so ports are fixed
 *   (the same on every node), every listener binds 0.0.0.0, and the placement's endpoints, the etcd
 *   endpoint and the admin URL are DNS names of the engine's service discovery. Nothing is
 *   allocated, reserved or retried: the engine owns the addresses.
 */
export type NetworkModel = "loopback" | "named";

/** Which DNS the names of the `named` model are for. */
export type NamedDns = "kubernetes" | "swarm";

/** The network model of a plan. */
export type NetworkOption = { model: "loopback" } | { model: "named"; dns: NamedDns };

/** Where every listener of the named model binds. */
export const ANY_ADDRESS = "0.0.0.0";

/** The named model's fixed ports: m3's and etcd's usual ones (the fixtures' templates use the same). */
export const NAMED_PORTS = {
  etcdClient: 2379,
  etcdPeer: 2380,
  coordinator: 7201,
  coordinatorMetrics: 7203,
  node: { http: 6001, metrics: 6002, tcp: 6003 },
} as const;

/** Service (and StatefulSet) names of the named model: etcd, the coordinator, the aggregators' headless service. */
export const SERVICE_NAMES = { etcd: "etcd", coordinator: "m3coordinator", aggregators: "m3aggregator" } as const;

/** A DNS label (RFC 1123): what a Kubernetes namespace, a Swarm stack and a service name must be. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Ports of one aggregator node. */
export interface NodePorts {
  http: number;
  metrics: number;
  tcp: number;
  /** delve's headless server, in debug mode only. */
  debug?: number;
}

/** Every port a cluster listens on, and the address they all bind. */
export interface PortPlan {
  host: string;
  etcdClient: number;
  etcdPeer: number;
  coordinator: number;
  coordinatorMetrics: number;
  nodes: NodePorts[];
  /** With `faults: true`: Toxiproxy's API, its proxies' listeners and the sink's own port. */
  faults?: FaultPorts;
}

/** Ports a `faults: true` cluster adds to its plan (all from the allocator, on the cluster's host). */
export interface FaultPorts {
  /** Toxiproxy's HTTP API. */
  api: number;
  /** The coordinator → etcd proxy. */
  coordinatorEtcd: number;
  /** The sink's own listener (proxies forward to it). */
  sink: number;
  /** Port of every node's flush proxy (each on the node's own loopback address). */
  flush: number;
  /** Per node, in node order. */
  nodes: Array<{ etcd: number; ingest: number }>;
}
