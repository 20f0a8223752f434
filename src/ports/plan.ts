/**
 * Port plan of one cluster. Every component runs in the host network
 * namespace and listens on 127.0.0.1, so every port is a host port and must be
 * free on the host: either allocated (outside the ephemeral range, reserved
 * across processes: see allocator.ts), or given explicitly (the seed's
 * basePort layout, coordinatorPort, etcdPort, debug.basePort), which is
 * checked and reserved the same way but never moved.
 */
import { randomBytes } from "node:crypto";
import { LOOPBACK, type NodePorts, type PortPlan } from "../model/network";
import type { ResolvedClusterOptions } from "../model/options";
import { PortAllocator, type PortRefusal } from "./allocator";


/** A port of the plan is already taken on 127.0.0.1. */
export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
  constructor(readonly port: number, readonly purpose: string, readonly host = LOOPBACK, detail = "is already in use") {
    super(`port ${port} on ${host} (${purpose}) ${detail}: choose another basePort/port option, or omit it to get free ports`);
  }
}

function refusalText(refusal: PortRefusal): string {
  return refusal.reason === "in use" ? "is already in use"
    : `is reserved by cluster ${refusal.by.cluster} (pid ${refusal.by.pid}) of another fixture process`;
}

/** Seed layout: node i (0-based here) listens on base+1+10i (HTTP), +2 (metrics), +3 (raw TCP). */
export function seedNodePorts(basePort: number, nodes: number): NodePorts[] {
  return Array.from({ length: nodes }, (_, i) => ({
    http: basePort + 1 + 10 * i,
    metrics: basePort + 2 + 10 * i,
    tcp: basePort + 3 + 10 * i,
  }));
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

/** What {@link planPorts} needs of the options (clusterId names the owner of the reservations). */
export type PlanOptions = Pick<ResolvedClusterOptions, "nodes" | "basePort" | "coordinatorPort" | "etcdPort"> &
  Partial<Pick<ResolvedClusterOptions, "debug" | "host" | "clusterId">>;

/** Extra inputs of {@link planPorts}. */
export interface PlanContext {
  /** Ports not to allocate (e.g. one a container just failed to bind). Explicit ports are never affected. */
  exclude?: ReadonlySet<number>;
  /** Reservations folder (default: the shared one). */
  dir?: string;
}

/**
 * Allocates and reserves every port of a cluster (owner: `options.clusterId`, or a one-off id).
 * Explicit ports (basePort layout, coordinatorPort, etcdPort, debug.basePort) are checked to be
 * bindable and not reserved by another process, and fail with a {@link PortInUseError} naming the
 * port; all others are allocated outside the ephemeral range. On any error nothing stays reserved.
 * Release with `releaseReservations(clusterId)` (the cluster's teardown does).
 */
export async function planPorts(options: PlanOptions, context: PlanContext = {}): Promise<PortPlan> {
  const { nodes, basePort } = options;
  const host = options.host ?? LOOPBACK;
  const allocator = new PortAllocator({
    cluster: options.clusterId ?? `plan-${process.pid}-${randomBytes(3).toString("hex")}`, host, dir: context.dir,
  });
  const exclude = context.exclude ?? new Set<number>();
  const free = async (preferred?: number): Promise<number> =>
    preferred !== undefined && !exclude.has(preferred) && !allocator.ports.includes(preferred) && (await allocator.tryReserve(preferred)) === undefined
      ? preferred : allocator.allocate(exclude);
  const required = async (port: number, purpose: string): Promise<number> => {
    const refusal = await allocator.tryReserve(port);
    if (refusal !== undefined) throw new PortInUseError(port, purpose, host, refusalText(refusal));
    return port;
  };
  try {
    // Explicit ports first: a clash among them (or with another cluster) fails before anything is allocated.
    const explicit = explicitPorts(options);
    const seen = new Map<number, string>();
    for (const { port, purpose } of explicit) {
      const other = seen.get(port);
      if (other !== undefined) throw new PortInUseError(port, `${purpose}, also planned for ${other}`, host);
      seen.set(port, purpose);
    }
    for (const { port, purpose } of explicit) await required(port, purpose);

    const nodePorts: NodePorts[] = basePort === undefined
      ? Array.from({ length: nodes }, () => ({ http: 0, metrics: 0, tcp: 0 }))
      : seedNodePorts(basePort, nodes);
    if (basePort === undefined) {
      for (const n of nodePorts) {
        n.http = await free();
        n.metrics = await free();
        n.tcp = await free();
      }
    }
    if (options.debug !== undefined) {
      const debugBase = options.debug.basePort;
      for (const [i, n] of nodePorts.entries()) n.debug = debugBase === undefined ? await free() : debugBase + i;
    }
    // With the seed layout, prefer the seed's fixed coordinator/etcd ports when free.
    const plan: PortPlan = {
      host,
      etcdClient: options.etcdPort ?? await free(basePort !== undefined ? 2379 : undefined),
      etcdPeer: await free(),
      coordinator: options.coordinatorPort ?? await free(basePort !== undefined ? 7201 : undefined),
      coordinatorMetrics: await free(),
      nodes: nodePorts,
    };
    const planned = new Map<number, string>();
    for (const { port, purpose } of describePorts(plan)) {
      const other = planned.get(port);
      if (other !== undefined) throw new PortInUseError(port, `${purpose}, also planned for ${other}`, host);
      planned.set(port, purpose);
    }
    return plan;
  } catch (error) {
    allocator.releaseAll();
    throw error;
  }
}

/** The ports of a plan the user chose (never moved to other ports, never retried). */
export function explicitPorts(options: PlanOptions): Array<{ port: number; purpose: string }> {
  const ports: Array<{ port: number; purpose: string }> = [];
  if (options.basePort !== undefined) {
    for (const [i, n] of seedNodePorts(options.basePort, options.nodes).entries()) {
      ports.push({ port: n.http, purpose: `node ${i + 1} HTTP` }, { port: n.metrics, purpose: `node ${i + 1} metrics` }, { port: n.tcp, purpose: `node ${i + 1} raw TCP` });
    }
  }
  const debugBase = options.debug?.basePort;
  if (debugBase !== undefined) {
    for (let i = 0; i < options.nodes; i++) ports.push({ port: debugBase + i, purpose: `node ${i + 1} delve` });
  }
  if (options.coordinatorPort !== undefined) ports.push({ port: options.coordinatorPort, purpose: "coordinator admin API" });
  if (options.etcdPort !== undefined) ports.push({ port: options.etcdPort, purpose: "etcd client" });
  return ports;
}
