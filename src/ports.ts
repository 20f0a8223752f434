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

/** Every port a cluster listens on, and the address they all bind. */
export interface PortPlan {
  host: string;
  etcdClient: number;
  etcdPeer: number;
  coordinator: number;
  coordinatorMetrics: number;
  nodes: NodePorts[];
}

/** A port of the plan is already taken on 127.0.0.1. */
export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
  constructor(readonly port: number, readonly purpose: string, readonly host = LOOPBACK) {
    super(`port ${port} on ${host} (${purpose}) is already in use: choose another basePort/port option, or omit it to get free ports`);
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

/** Resolves true when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function requireFree(port: number, purpose: string, host: string): Promise<number> {
  if (!(await isPortFree(port, host))) throw new PortInUseError(port, purpose, host);
  return port;
}

/** A free port, preferring `preferred` when it is free (get-port keeps it from being handed out twice in this process). */
function freePort(host: string, preferred?: number): Promise<number> {
  return getPort({ host, port: preferred });
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
export async function planPorts(options: Pick<ResolvedClusterOptions, "nodes" | "basePort" | "coordinatorPort" | "etcdPort"> & Partial<Pick<ResolvedClusterOptions, "debug" | "host">>): Promise<PortPlan> {
  const { nodes, basePort } = options;
  const host = options.host ?? LOOPBACK;
  const free = (preferred?: number) => freePort(host, preferred);
  const required = (port: number, purpose: string) => requireFree(port, purpose, host);
  const nodePorts: NodePorts[] = basePort === undefined
    ? await Promise.all(Array.from({ length: nodes }, async () => ({
      http: await free(), metrics: await free(), tcp: await free(),
    })))
    : seedNodePorts(basePort, nodes);
  if (basePort !== undefined) {
    for (const [i, n] of nodePorts.entries()) {
      await required(n.http, `node ${i + 1} HTTP`);
      await required(n.metrics, `node ${i + 1} metrics`);
      await required(n.tcp, `node ${i + 1} raw TCP`);
    }
  }
  if (options.debug !== undefined) {
    const debugBase = options.debug.basePort;
    for (const [i, n] of nodePorts.entries()) {
      n.debug = debugBase === undefined ? await free() : await required(debugBase + i, `node ${i + 1} delve`);
    }
  }
  // With the seed layout, prefer the seed's fixed coordinator/etcd ports when free.
  const coordinator = options.coordinatorPort !== undefined
    ? await required(options.coordinatorPort, "coordinator admin API")
    : await free(basePort !== undefined ? 7201 : undefined);
  const etcdClient = options.etcdPort !== undefined
    ? await required(options.etcdPort, "etcd client")
    : await free(basePort !== undefined ? 2379 : undefined);
  const plan: PortPlan = {
    host,
    etcdClient,
    etcdPeer: await free(),
    coordinator,
    coordinatorMetrics: await free(),
    nodes: nodePorts,
  };
  const seen = new Map<number, string>();
  for (const { port, purpose } of describePorts(plan)) {
    const other = seen.get(port);
    if (other !== undefined) {
      throw new PortInUseError(port, `${purpose}, also planned for ${other}`, host);
    }
    seen.set(port, purpose);
  }
  return plan;
}
