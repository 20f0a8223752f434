/**
 * Removes what fixture processes that died without cleaning up (SIGKILL, OOM, a crashed runner,
 * a forced exit) left behind: containers whose owner process (owner-pid, owner-start, owner-host
 * labels) no longer runs on this host, port reservations of dead owners, folders of clusters
 * that no longer exist, and lock files of dead owners. Live clusters of other processes are never
 * touched.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { containersWithLabel, removeContainers } from "../docker/client";
import { LABEL_CLUSTER, LABEL_OWNER_PID } from "../model/labels";
import { ownerOf } from "../docker/labels";
import { ownerAlive } from "../util/process-alive";
import { CLUSTER_DIRS_ROOT, clusterDirOwner, removeClusterDir } from "./cluster-dir";
import { clusterLockName } from "./claim";
import { lockDir, lockOwner, sweepLocks } from "../util/file-lock";
import { listReservations, ownerProcessDead, removeStale, removeStaleTempFiles, type Reservation } from "../ports/reservations";

/**
 * Removes port reservations whose owner is gone: the process that made them died (on this host),
 * or, for a kept (reuse) cluster, Docker has no container labelled with its id any more.
 * Resolves with the ports freed.
 */
export async function sweepReservations(dir?: string): Promise<number[]> {
  removeStaleTempFiles(dir);
  const all = listReservations(dir);
  const since = Date.now();
  let live = new Set<string>();
  if (all.some((r) => r.kept)) {
    live = new Set((await containersWithLabel(LABEL_CLUSTER)).map((c) => c.labels[LABEL_CLUSTER] ?? ""));
  }
  // A cluster kept after the container list was read is not judged by that list.
  const keptGone = (r: Reservation) => r.kept && !live.has(r.cluster) && Date.parse(r.keptAt ?? r.at) < since;
  const stale = (r: Reservation) => ownerProcessDead(r) || keptGone(r);
  return removeStale(all.filter(stale).map((r) => r.port), stale, dir);
}

/** A cluster folder without an owner record is judged by its age. */
const UNOWNED_DIR_MAX_AGE_MS = 15 * 60_000;

/**
 * Removes the folders of clusters that are gone: no container carries the cluster id, no live
 * process holds the cluster's id lock (a start holds it from before the folder is made until its
 * containers are gone), and the folder's owner process is dead. Resolves with the folders removed.
 */
export async function sweepClusterDirs(root = CLUSTER_DIRS_ROOT, locks = lockDir()): Promise<string[]> {
  let ids: string[];
  try {
    ids = fs.readdirSync(root);
  } catch {
    return [];
  }
  if (ids.length === 0) return [];
  const since = Date.now();
  const withContainers = new Set((await containersWithLabel(LABEL_CLUSTER)).map((c) => c.labels[LABEL_CLUSTER] ?? ""));
  const removed: string[] = [];
  for (const id of ids) {
    const dir = path.join(root, id);
    if (withContainers.has(id) || lockOwner(clusterLockName(id), locks) !== undefined) continue;
    const stat = fs.statSync(dir, { throwIfNoEntry: false });
    if (stat === undefined || stat.mtimeMs > since - 1_000) continue; // made after the container list was read
    const owner = clusterDirOwner(dir);
    const gone = owner === undefined ? since - stat.mtimeMs > UNOWNED_DIR_MAX_AGE_MS : !ownerAlive(owner);
    if (!gone) continue;
    fs.rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/**
 * Removes orphaned fixture containers, then stale port reservations, folders of clusters that
 * are gone, and dead owners' lock files; resolves with the ids of the clusters the containers belonged to.
 */
export async function sweepOrphans(): Promise<string[]> {
  const orphans = (await containersWithLabel(LABEL_OWNER_PID)).filter((c) => !ownerAlive(ownerOf(c.labels)));
  await removeContainers(orphans.map((c) => c.id));
  const ids = [...new Set(orphans.map((c) => c.labels[LABEL_CLUSTER] ?? "?"))];
  for (const id of ids) if (lockOwner(clusterLockName(id)) === undefined) removeClusterDir(id);
  await sweepReservations();
  sweepLocks();
  await sweepClusterDirs();
  return ids;
}
