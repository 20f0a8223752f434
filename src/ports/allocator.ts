/**
 * Hands out listen ports that nothing else on the host takes by accident:
 * outside the kernel's ephemeral range (so no port-0 bind and no outgoing
 * connection lands on them), reserved across processes (so no other fixture
 * process hands them out), and bindable on the cluster's host right now (so
 * nothing listens there already).
 */
import * as net from "node:net";
import { LOOPBACK } from "../model/network";
import { allocatablePortRanges, type PortRange } from "./ephemeral";
import { reclaimIfStale, readReservation, releaseReservations, reservationsDir, reservePort } from "./reservations";

/** Resolves true when nothing listens on host:port (we can bind it ourselves). */
export function isPortFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Why a given port cannot be had. */
export type PortRefusal =
  | { reason: "reserved"; by: { cluster: string; pid: number } }
  | { reason: "in use" };

/** Options of {@link PortAllocator}. */
export interface PortAllocatorOptions {
  /** Cluster the ports are reserved for (the owner named in each reservation). */
  cluster: string;
  /** Address the ports must be bindable on. Default 127.0.0.1. */
  host?: string;
  /** Reservations folder. Default {@link reservationsDir}(). */
  dir?: string;
  /** Ranges to pick from. Default {@link allocatablePortRanges}() (the pool minus the ephemeral range). */
  ranges?: PortRange[];
  /**
   * The process the reservations belong to. Default this one; a node added to a cluster by another
   * process (`m3agg scale`) reserves its ports under the cluster owner's pid, so they live as long as the cluster.
   */
  ownerPid?: number;
}

/** Allocates and reserves ports for one cluster. */
export class PortAllocator {
  readonly cluster: string;
  readonly host: string;
  readonly dir: string;
  private readonly ranges: PortRange[];
  private readonly size: number;
  private readonly ownerPid: number;
  /** Ports this allocator reserved (released together by {@link releaseAll}). */
  private readonly held = new Set<number>();

  constructor(options: PortAllocatorOptions) {
    this.cluster = options.cluster;
    this.host = options.host ?? LOOPBACK;
    this.dir = options.dir ?? reservationsDir();
    this.ranges = options.ranges ?? allocatablePortRanges();
    this.size = this.ranges.reduce((n, r) => n + r.to - r.from + 1, 0);
    this.ownerPid = options.ownerPid ?? process.pid;
  }

  /** Ports reserved through this allocator and not released. */
  get ports(): number[] {
    return [...this.held];
  }

  private randomPort(): number {
    let i = Math.floor(Math.random() * this.size);
    for (const r of this.ranges) {
      const n = r.to - r.from + 1;
      if (i < n) return r.from + i;
      i -= n;
    }
    throw new Error("unreachable: index outside the ranges");
  }

  /**
   * Reserves `port` for the cluster and checks it is bindable. Resolves undefined on success,
   * else why not (the reservation is then not kept). A stale reservation of a dead process is taken over.
   */
  async tryReserve(port: number): Promise<PortRefusal | undefined> {
    if (this.held.has(port)) return undefined;
    if (!reservePort(port, this.cluster, this.dir, this.ownerPid)) {
      const owner = readReservation(port, this.dir);
      if (owner !== undefined && owner.cluster === this.cluster && owner.pid === this.ownerPid) {
        this.held.add(port); // ours already (a second plan of the same cluster in this process)
      } else if (!(await reclaimIfStale(port, this.dir)) || !reservePort(port, this.cluster, this.dir, this.ownerPid)) {
        const by = readReservation(port, this.dir);
        return { reason: "reserved", by: { cluster: by?.cluster ?? "?", pid: by?.pid ?? 0 } };
      }
    }
    this.held.add(port);
    if (!(await isPortFree(port, this.host))) {
      this.release([port]);
      return { reason: "in use" };
    }
    return undefined;
  }

  /**
   * One free, reserved port from the allocatable ranges, avoiding `exclude`.
   * Throws after 1,000 candidates (a nearly exhausted range).
   */
  async allocate(exclude: ReadonlySet<number> = new Set()): Promise<number> {
    const tried = new Set<number>();
    for (let i = 0; i < 1_000 && tried.size < this.size; i++) {
      const port = this.randomPort();
      if (tried.has(port) || exclude.has(port) || this.held.has(port)) continue;
      tried.add(port);
      if ((await this.tryReserve(port)) === undefined) return port;
    }
    throw new Error(`no free port found for cluster ${this.cluster} on ${this.host} after ${tried.size} candidates in ` +
      `${this.ranges.map((r) => `${r.from}-${r.to}`).join(", ")} (reservations in ${this.dir})`);
  }

  /** Releases the given ports (default: every port this allocator holds). */
  release(ports: number[] = [...this.held]): void {
    const mine = ports.filter((p) => this.held.has(p));
    for (const p of mine) this.held.delete(p);
    if (mine.length > 0) releaseReservations(this.cluster, this.dir, mine);
  }

  /** Releases every port this allocator holds. */
  releaseAll(): void {
    this.release();
  }
}
