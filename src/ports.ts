/**
 * Port plan of one cluster. Every component runs in the host network
 * namespace and listens on 127.0.0.1, so every port is a host port and must be
 * free on the host: either taken from get-port (parallel-safe), or the seed's
 * fixed layout derived from basePort (checked to be free up front).
 */
import * as net from "node:net";
import getPort from "get-port";
import type { ResolvedClusterOptions } from "./options";

/** The host every listener binds to and every client dials. */
export const LOOPBACK = "127.0.0.1";

/** Ports of one aggregator node. */
export interface NodePorts {
  http: number;
  metrics: number;
  tcp: number;
  /** delve's headless server, in debug mode only. */
  debug?: number;
}

/** Every port a cluster listens on. */
export interface PortPlan {
  etcdClient: number;
  etcdPeer: number;
  coordinator: number;
  coordinatorMetrics: number;
  nodes: NodePorts[];
}

/** A port of the plan is already taken on 127.0.0.1. */
export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
  constructor(readonly port: number, readonly purpose: string) {
    super(`port ${port} on ${LOOPBACK} (${purpose}) is already in use: choose another basePort/port option, or omit it to get free ports`);
  }
}

/** Seed layout: node i (0-based here) listens on base+1+10i (HTTP), +2 (metrics), +3 (raw TCP). */
export function seedNodePorts(basePort: number, nodes: number): NodePorts[] {
  return Array.from({ length: nodes }, (_, i) => ({
    http: basePort + 1 + 10 * i,
    metrics: basePort + 2 + 10 * i,
    tcp: basePort + 3 + 10 * i,
  }));
}

/** Resolves true when nothing listens on 127.0.0.1:port (we can bind it ourselves). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function requireFree(port: number, purpose: string): Promise<number> {
  if (!(await isPortFree(port))) throw new PortInUseError(port, purpose);
  return port;
}

/** A free port, preferring `preferred` when it is free (get-port keeps it from being handed out twice in this process). */
function freePort(preferred?: number): Promise<number> {
  return getPort({ host: LOOPBACK, port: preferred });
}

/** Lists every port of a plan with what it is for (for checks, errors and tables). */
export function describePorts(plan: PortPlan): Array<{ port: number; purpose: string }> {
  return [
    { port: plan.etcdClient, purpose: "etcd client" },
    { port: plan.etcdPeer, purpose: "etcd peer" },
    { port: plan.coordinator, purpose: "coordinator admin API" },
    { port: plan.coordinatorMetrics, purpose: "coordinator metrics" },
    ...plan.nodes.flatMap((n, i) => [
      { port: n.http, purpose: `node ${i + 1} HTTP` },
      { port: n.metrics, purpose: `node ${i + 1} metrics` },
      { port: n.tcp, purpose: `node ${i + 1} raw TCP` },
      ...(n.debug === undefined ? [] : [{ port: n.debug, purpose: `node ${i + 1} delve` }]),
    ]),
  ];
}

/**
 * Allocates every port of a cluster. Explicit ports (basePort layout,
 * coordinatorPort, etcdPort) are checked to be free and fail with a
 * {@link PortInUseError} naming the port; all others come from get-port.
 */
export async function planPorts(options: Pick<ResolvedClusterOptions, "nodes" | "basePort" | "coordinatorPort" | "etcdPort"> & Partial<Pick<ResolvedClusterOptions, "debug">>): Promise<PortPlan> {
  const { nodes, basePort } = options;
  const nodePorts: NodePorts[] = basePort === undefined
    ? await Promise.all(Array.from({ length: nodes }, async () => ({
      http: await freePort(), metrics: await freePort(), tcp: await freePort(),
    })))
    : seedNodePorts(basePort, nodes);
  if (basePort !== undefined) {
    for (const [i, n] of nodePorts.entries()) {
      await requireFree(n.http, `node ${i + 1} HTTP`);
      await requireFree(n.metrics, `node ${i + 1} metrics`);
      await requireFree(n.tcp, `node ${i + 1} raw TCP`);
    }
  }
  if (options.debug !== undefined) {
    const debugBase = options.debug.basePort;
    for (const [i, n] of nodePorts.entries()) {
      n.debug = debugBase === undefined ? await freePort() : await requireFree(debugBase + i, `node ${i + 1} delve`);
    }
  }
  // With the seed layout, prefer the seed's fixed coordinator/etcd ports when free.
  const coordinator = options.coordinatorPort !== undefined
    ? await requireFree(options.coordinatorPort, "coordinator admin API")
    : await freePort(basePort !== undefined ? 7201 : undefined);
  const etcdClient = options.etcdPort !== undefined
    ? await requireFree(options.etcdPort, "etcd client")
    : await freePort(basePort !== undefined ? 2379 : undefined);
  const plan: PortPlan = {
    etcdClient,
    etcdPeer: await freePort(),
    coordinator,
    coordinatorMetrics: await freePort(),
    nodes: nodePorts,
  };
  const seen = new Map<number, string>();
  for (const { port, purpose } of describePorts(plan)) {
    const other = seen.get(port);
    if (other !== undefined) {
      throw new PortInUseError(port, `${purpose}, also planned for ${other}`);
    }
    seen.set(port, purpose);
  }
  return plan;
}
