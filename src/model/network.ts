/** Addresses and ports: where the cluster's listeners bind and what clients dial. */

/** The default host every listener binds to and every client dials. */
export const LOOPBACK = "127.0.0.1";

/**
 * How the containers of a plan reach each other. "loopback": every container shares the host's
 * network namespace and listens on the plan's host address (no port mapping).
 */
export type NetworkModel = "loopback";

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
}
