/** The labels added when a container is created: who created it and when (the sweep reads them). */
import { LABEL_OWNER_HOST, LABEL_OWNER_NS, LABEL_OWNER_PID, LABEL_OWNER_START, LABEL_REUSE, LABEL_STARTED_AT } from "../model/labels";
import { selfIdentity } from "../util/process-alive";

/**
 * The labels that say who created a container and when, added at creation: the sweep removes
 * containers whose owner process died (pid, and its start time, so a reused pid is not taken for
 * the owner). A reuse-mode container has no owner pid (it outlives its owner).
 */
export function ownerLabels(labels: Record<string, string>, owner?: Record<string, string>): Record<string, string> {
  const me = selfIdentity();
  if (owner !== undefined) return { ...clusterOwnerOf(owner), [LABEL_STARTED_AT]: new Date().toISOString() };
  return {
    [LABEL_OWNER_HOST]: me.host,
    [LABEL_STARTED_AT]: new Date().toISOString(),
    ...(isKept(labels) ? {} : { [LABEL_OWNER_PID]: String(me.pid), [LABEL_OWNER_START]: me.start, [LABEL_OWNER_NS]: me.ns }),
  };
}

/**
 * The owner labels of a cluster's container. A node added to a running cluster takes them, so it
 * lives and is swept with the cluster, not with the process that added it (`m3agg scale` exits at once).
 */
export function clusterOwnerOf(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries([LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_OWNER_START, LABEL_OWNER_NS]
    .flatMap((name) => (labels[name] === undefined ? [] : [[name, labels[name] as string]])));
}

/** True when these owner labels name this process (or no process: a kept cluster's). */
export function ownedBySelf(owner: Record<string, string>): boolean {
  const me = selfIdentity();
  return owner[LABEL_OWNER_PID] === String(me.pid) && owner[LABEL_OWNER_HOST] === me.host;
}

/** A container of a kept (reuse) cluster: it outlives the process that made it. */
export function isKept(labels: Record<string, string>): boolean {
  return labels[LABEL_REUSE] !== undefined;
}

/** The owner process named by a container's labels (for ownerAlive). */
export function ownerOf(labels: Record<string, string>): { pid: number; host: string | undefined; start: string | undefined; ns: string | undefined } {
  return { pid: Number(labels[LABEL_OWNER_PID]), host: labels[LABEL_OWNER_HOST], start: labels[LABEL_OWNER_START], ns: labels[LABEL_OWNER_NS] };
}
