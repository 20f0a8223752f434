/**
 * Removes containers left behind by fixture processes that died without
 * cleaning up (SIGKILL, OOM, a crashed runner). A container is an orphan when
 * its owner process, named by the owner-pid and owner-host labels, no longer
 * runs on this host. Live clusters of other processes are never touched.
 * Port reservations (ports/reservations.ts) of such owners are swept here too.
 */
import * as os from "node:os";
import { containersWithLabel, removeContainers } from "../docker/client";
import { LABEL_CLUSTER, LABEL_OWNER_HOST, LABEL_OWNER_PID } from "../model/labels";
import { processAlive } from "../util/process-alive";
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

/** Removes orphaned fixture containers (and stale port reservations); resolves with the ids of the clusters the containers belonged to. */
export async function sweepOrphans(): Promise<string[]> {
  const host = os.hostname();
  const orphans = (await containersWithLabel(LABEL_OWNER_PID)).filter((c) => {
    const pid = Number(c.labels[LABEL_OWNER_PID]);
    return c.labels[LABEL_OWNER_HOST] === host && Number.isInteger(pid) && pid > 0 && !processAlive(pid);
  });
  await removeContainers(orphans.map((c) => c.id));
  await sweepReservations();
  return [...new Set(orphans.map((c) => c.labels[LABEL_CLUSTER] ?? "?"))];
}
