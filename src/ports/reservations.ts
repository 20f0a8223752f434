/**
 * Cross-process port reservations: one file per port in a runtime folder that
 * every fixture process on the host shares (default `<os.tmpdir()>/m3agg-ports`,
 * or `M3AGG_PORTS_DIR`). A file exists exactly while a cluster holds the port;
 * it names the owner (pid, host name, cluster id). Other processes never hand
 * out a reserved port, and a process that dies leaves files its successors
 * recognise as stale and sweep.
 *
 * Creation is atomic: the record is written to a private temp file and
 * hard-linked to `<port>.json`; link(2) fails with EEXIST when the name is taken
 * (the guarantee O_EXCL gives) and the record is complete the moment the name exists.
 */
import { randomBytes } from "node:crypto";
import { portsDirSetting } from "../model/environment";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLock } from "../util/file-lock";
import { processAlive } from "../util/process-alive";

/** Who holds a port. */
export interface Reservation {
  port: number;
  /** Process that reserved it. */
  pid: number;
  /** `os.hostname()` of that process: pids are only checked on the same host. */
  hostname: string;
  /** Cluster id the port belongs to. */
  cluster: string;
  /**
   * Kept (reuse) cluster: it outlives its process, so the reservation lives as long as
   * Docker has containers labelled with the cluster id, whatever becomes of the pid.
   */
  kept: boolean;
  /** ISO time of the reservation. */
  at: string;
  /** ISO time it was marked kept. */
  keptAt?: string;
}

/** The shared reservations folder: `M3AGG_PORTS_DIR`, else `<os.tmpdir()>/m3agg-ports`. */
export function reservationsDir(): string {
  return portsDirSetting() ?? path.join(os.tmpdir(), "m3agg-ports");
}

function ensureDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true });
  try {
    fs.chmodSync(dir, 0o1777); // like /tmp: every user's fixtures share it, each removes only its own files
  } catch {
    // not ours to change; the folder still works for its owner
  }
}

const fileOf = (dir: string, port: number): string => path.join(dir, `${port}.json`);

/** Writes `content` to `target` only if `target` does not exist (atomic, complete). False when taken. */
function createExclusive(dir: string, target: string, content: string): boolean {
  const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  fs.writeFileSync(tmp, content);
  try {
    fs.linkSync(tmp, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The record of `port`, or undefined when it is free. A record still unreadable counts as held by an unknown owner. */
export function readReservation(port: number, dir = reservationsDir()): Reservation | undefined {
  let text: string;
  try {
    text = fs.readFileSync(fileOf(dir, port), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as Reservation;
  } catch {
    return { port, pid: 0, hostname: "", cluster: "?", kept: false, at: "" };
  }
}

/** Every reservation in the folder. */
export function listReservations(dir = reservationsDir()): Reservation[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((name) => /^\d+\.json$/.test(name))
    .flatMap((name) => {
      const r = readReservation(Number(name.slice(0, -5)), dir);
      return r === undefined ? [] : [r];
    });
}

/**
 * Reserves `port` for `cluster`, owned by process `pid` (this one unless the cluster's owner is another local process). Resolves false when another
 * reservation holds it (stale ones are not taken over here: see {@link reclaimIfStale}).
 */
export function reservePort(port: number, cluster: string, dir = reservationsDir(), pid = process.pid): boolean {
  ensureDir(dir);
  const record: Reservation = { port, pid, hostname: os.hostname(), cluster, kept: false, at: new Date().toISOString() };
  return createExclusive(dir, fileOf(dir, port), `${JSON.stringify(record)}\n`);
}

/** True when the owner of `r` is gone: its process is dead (on this host). Kept reservations need Docker: see sweep.ts. */
export function ownerProcessDead(r: Reservation): boolean {
  return !r.kept && r.hostname === os.hostname() && Number.isInteger(r.pid) && r.pid > 0 && !processAlive(r.pid);
}

/**
 * Removes the reservations of `ports` for which `isStale` holds, under a cross-process lock and after
 * reading each record again inside it, so a port reserved afresh by a live process in the meantime is never removed.
 * Resolves with the ports removed.
 */
export async function removeStale(ports: number[], isStale: (r: Reservation) => boolean, dir = reservationsDir()): Promise<number[]> {
  if (ports.length === 0) return [];
  ensureDir(dir);
  const release = await acquireLock(".sweep", 30_000, dir); // in the folder itself: shared by whoever shares the folder
  try {
    return ports.filter((port) => {
      const r = readReservation(port, dir);
      if (r === undefined || !isStale(r)) return false;
      fs.rmSync(fileOf(dir, port), { force: true });
      return true;
    });
  } finally {
    release();
  }
}

/** Takes `port` over from a dead owner process: true when its stale reservation was removed (the port may then be reserved). */
export async function reclaimIfStale(port: number, dir = reservationsDir()): Promise<boolean> {
  const r = readReservation(port, dir);
  if (r === undefined) return true;
  if (!ownerProcessDead(r)) return false;
  await removeStale([port], ownerProcessDead, dir);
  return readReservation(port, dir) === undefined;
}

/** Removes every reservation of `cluster` (stop, teardown, failed start). Resolves with the ports released. */
export function releaseReservations(cluster: string, dir = reservationsDir(), ports?: number[]): number[] {
  const released: number[] = [];
  for (const r of listReservations(dir)) {
    if (r.cluster !== cluster || (ports !== undefined && !ports.includes(r.port))) continue;
    fs.rmSync(fileOf(dir, r.port), { force: true });
    released.push(r.port);
  }
  return released;
}

/**
 * Marks the reservations of `cluster` as kept: the cluster outlives this process (reuse mode), so they
 * stay until its containers are gone. Each record is replaced atomically (write, then rename over it).
 */
export function keepReservations(cluster: string, dir = reservationsDir()): number[] {
  const kept: number[] = [];
  for (const r of listReservations(dir)) {
    if (r.cluster !== cluster || r.kept) continue;
    const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
    fs.writeFileSync(tmp, `${JSON.stringify({ ...r, kept: true, keptAt: new Date().toISOString() })}\n`);
    fs.renameSync(tmp, fileOf(dir, r.port));
    kept.push(r.port);
  }
  return kept;
}

/** Temp files left by a process that died between writing and linking a record. */
export function removeStaleTempFiles(dir = reservationsDir()): void {
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) fs.rmSync(path.join(dir, name), { force: true });
  }
}
