/**
 * Teardown that does not depend on the test runner behaving: live clusters
 * (started, or still starting) are registered here; SIGINT/SIGTERM remove them
 * before the process dies (a start still under way is aborted and removes what
 * it brought up), a second SIGINT/SIGTERM exits at once and prints what is left
 * and how to remove it, and a plain exit removes them synchronously through the
 * docker CLI, with their port reservations, cluster folder and cluster-id lock.
 * (A SIGKILLed process cannot clean up: sweep.ts removes its leftovers on the
 * next start.)
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { containersWithLabel, removeContainers } from "../docker/client";
import { LABEL_CLUSTER } from "../model/labels";
import { listReservations, releaseReservations } from "../ports";
import { clusterDirOf, removeClusterDir } from "./cluster-dir";
import { releaseClusterId } from "./claim";

interface Stoppable {
  readonly id: string;
  stop(): Promise<void>;
}

const live = new Set<Stoppable>();
const liveIds = (): string[] => [...new Set([...live].map((c) => c.id))];
let installed = false;
let signalsSeen = 0;
let forced = false;

/** Writes to stderr without ever throwing (it may be a closed pipe). */
function say(text: string): void {
  try {
    fs.writeSync(2, text);
  } catch {
    // nobody is listening: the teardown goes on regardless
  }
}

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  signalsSeen++;
  if (signalsSeen > 1) forceExit(signal);
  say(`m3agg: ${signal}: removing ${liveIds().join(", ")} (${signal} again exits at once, leaving them)\n`);
  await Promise.allSettled([...live].map((cluster) => cluster.stop()));
  uninstall();
  // Raise it again now that our handler is gone: with no other listener the default action ends the
  // process; libraries such as signal-exit (used by Testcontainers) only re-raise when they are alone.
  process.kill(process.pid, signal);
}

const handlers: Record<"SIGINT" | "SIGTERM", () => void> = {
  SIGINT: () => void onSignal("SIGINT"),
  SIGTERM: () => void onSignal("SIGTERM"),
};

/** What is left of cluster `id` on disk and in Docker, and the commands that remove it (sync: for a forced exit). */
export function describeLeftovers(id: string): string {
  const list = spawnSync("docker", ["ps", "-a", "--format", "{{.Names}}", "--filter", `label=${LABEL_CLUSTER}=${id}`], { encoding: "utf8", timeout: 5_000 });
  const containers = (list.stdout ?? "").split("\n").filter(Boolean);
  const ports = listReservations().filter((r) => r.cluster === id).map((r) => r.port);
  const dir = fs.existsSync(clusterDirOf(id)) ? clusterDirOf(id) : undefined;
  const parts = [
    `containers: ${list.status !== 0 ? "(docker did not answer)" : containers.length === 0 ? "none" : containers.join(", ")}`,
    `port reservations: ${ports.length === 0 ? "none" : ports.join(", ")}`,
    `cluster folder: ${dir ?? "none"}`,
  ];
  return `cluster ${id} left: ${parts.join("; ")}\n  remove it with: npx m3agg down --cluster ${id}` +
    `\n  (or: docker rm -f $(docker ps -aq --filter label=${LABEL_CLUSTER}=${id})${dir === undefined ? "" : `; rm -rf ${dir}`}; the next start's sweep also removes it)\n`;
}

/**
 * Exits now (code 130), without waiting for the teardown under way: prints, for each live cluster,
 * what is left and the command that removes it. The second Ctrl-C.
 */
export function forceExit(signal: string): never {
  forced = true;
  say(`m3agg: ${signal} again: exiting now, teardown not finished\n`);
  for (const id of liveIds()) say(describeLeftovers(id));
  process.exit(130);
}

function onExit(): void {
  if (forced) return; // a forced exit leaves them (and said so)
  for (const id of liveIds()) removeSync(id);
}

/** Removes a cluster's containers with the docker CLI, synchronously (for the 'exit' event); then, when none is left, its reservations, cluster folder and id lock. */
function removeSync(clusterId: string): void {
  const listed = () => spawnSync("docker", ["ps", "-aq", "--filter", `label=${LABEL_CLUSTER}=${clusterId}`], { encoding: "utf8", timeout: 10_000 });
  const list = listed();
  const ids = (list.stdout ?? "").split("\n").filter(Boolean);
  if (ids.length > 0) spawnSync("docker", ["rm", "-f", ...ids], { stdio: "ignore", timeout: 30_000 });
  const after = ids.length === 0 ? list : listed();
  if (after.status === 0 && (after.stdout ?? "").trim() === "") {
    releaseReservations(clusterId);
    removeClusterDir(clusterId);
    releaseClusterId(clusterId);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  signalsSeen = 0;
  process.on("SIGINT", handlers.SIGINT);
  process.on("SIGTERM", handlers.SIGTERM);
  process.on("exit", onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off("SIGINT", handlers.SIGINT);
  process.off("SIGTERM", handlers.SIGTERM);
  process.off("exit", onExit);
}

/** Called when a cluster starts: from now on signals and exit remove it. */
export function registerLiveCluster(cluster: Stoppable): void {
  live.add(cluster);
  install();
}

/**
 * Called when a cluster stopped. Handlers go away with the last live cluster. With `entry`, only
 * that registration is removed (a refused second start must not unregister a live first one).
 */
export function unregisterLiveCluster(id: string, entry?: Stoppable): void {
  if (entry !== undefined) live.delete(entry);
  else for (const c of live) if (c.id === id) live.delete(c);
  if (live.size === 0) uninstall();
}

/** What a teardown removed and what it could not. */
export interface TeardownReport {
  clusterId: string;
  /** Names of the containers removed. */
  removed: string[];
  /** Names of the containers still there (empty when the teardown succeeded). */
  left: string[];
  /** Ports whose reservations were released (only once no container is left). */
  portsReleased: number[];
  /** The cluster folder removed (certificates, mounted config files), if there was one. */
  clusterDirRemoved?: string;
  /** Why the teardown failed, if it did. */
  error?: string;
}

/** The teardown of a cluster failed: `report` says what was removed and what was not. */
export class TeardownError extends Error {
  override readonly name = "TeardownError";
  constructor(readonly report: TeardownReport, cause?: unknown) {
    super(`cluster ${report.clusterId}: teardown failed, left ${report.left.join(", ")} ` +
      `(removed: ${report.removed.join(", ") || "none"}); its port reservations and cluster folder are kept until they are gone. ` +
      `Retry stop(), or remove them with: npx m3agg down --cluster ${report.clusterId}` +
      (cause === undefined ? "" : `: ${cause instanceof Error ? cause.message : String(cause)}`), { cause });
  }
}

/** One line on what a teardown did, for errors. */
export function describeTeardown(report: TeardownReport): string {
  if (report.left.length > 0 || report.error !== undefined) {
    return `teardown FAILED: left ${report.left.join(", ") || "?"} (removed: ${report.removed.join(", ") || "none"}; ` +
      `port reservations and cluster folder kept); remove them with: npx m3agg down --cluster ${report.clusterId}` +
      (report.error === undefined ? "" : ` (${report.error})`);
  }
  const what = [
    `${report.removed.length} container${report.removed.length === 1 ? "" : "s"}`,
    `${report.portsReleased.length} port reservation${report.portsReleased.length === 1 ? "" : "s"}`,
    ...(report.clusterDirRemoved === undefined ? [] : ["its cluster folder"]),
  ];
  return `teardown removed everything it had started: ${what.join(", ")}`;
}

/**
 * Removes every container labelled with the cluster id (force: running,
 * paused and stopped alike), then checks Docker that none is left, then
 * releases the cluster's port reservations and removes its cluster folder.
 * Label-based, so it also catches containers that were created but never
 * handed to us. Resolves with what it removed; rejects with a
 * {@link TeardownError} (carrying the same report) when containers remain.
 */
export async function teardown(clusterId: string): Promise<TeardownReport> {
  const report: TeardownReport = { clusterId, removed: [], left: [], portsReleased: [] };
  for (let attempt = 1; ; attempt++) {
    const containers = await containersWithLabel(LABEL_CLUSTER, clusterId);
    if (containers.length === 0) {
      // the cluster folder (mounted files, certificates) and the port reservations live as long as the containers
      report.clusterDirRemoved = removeClusterDir(clusterId);
      report.portsReleased = releaseReservations(clusterId);
      return report;
    }
    try {
      const removedIds = await removeContainers(containers.map((c) => c.id));
      report.removed.push(...containers.filter((c) => removedIds.includes(c.id)).map((c) => c.name));
    } catch (error) {
      if (attempt >= 3) {
        report.left = containers.map((c) => c.name).filter((n) => !report.removed.includes(n));
        report.error = error instanceof Error ? error.message : String(error);
        throw new TeardownError(report, error);
      }
    }
  }
}
