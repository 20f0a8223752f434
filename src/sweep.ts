/**
 * Removes containers left behind by fixture processes that died without
 * cleaning up (SIGKILL, OOM, a crashed runner). A container is an orphan when
 * its owner process, named by the owner-pid and owner-host labels, no longer
 * runs on this host. Live clusters of other processes are never touched.
 */
import * as os from "node:os";
import { containersWithLabel, removeContainers } from "./docker";
import { LABEL_CLUSTER, LABEL_OWNER_HOST, LABEL_OWNER_PID } from "./labels";

/** True when a process with this pid runs (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes orphaned fixture containers; resolves with the ids of the clusters they belonged to. */
export async function sweepOrphans(): Promise<string[]> {
  const host = os.hostname();
  const orphans = (await containersWithLabel(LABEL_OWNER_PID)).filter((c) => {
    const pid = Number(c.labels[LABEL_OWNER_PID]);
    return c.labels[LABEL_OWNER_HOST] === host && Number.isInteger(pid) && pid > 0 && !processAlive(pid);
  });
  await removeContainers(orphans.map((c) => c.id));
  return [...new Set(orphans.map((c) => c.labels[LABEL_CLUSTER] ?? "?"))];
}
