/**
 * One cluster per cluster id: a start claims its id (the lock `cluster-<id>`, held while the
 * cluster lives in this process) before it touches anything. A second start with an id that a
 * live cluster uses, in this process or another, fails fast with a {@link ClusterIdInUseError}
 * and removes nothing of the other's: no container, no port reservation, no cluster folder.
 * Containers already labelled with the id count as "in use" too unless their owner is known to
 * be dead (a kept cluster, an owner on another host or a live owner process all count).
 */
import { containersWithLabel } from "../docker/client";
import { isKept, ownerOf } from "../docker/labels";
import { LABEL_CLUSTER } from "../model/labels";
import { ownerAlive } from "../util/process-alive";
import { type HeldLock, type LockOwner, tryLock } from "../util/file-lock";

/** The cluster id is used by a live cluster. */
export class ClusterIdInUseError extends Error {
  override readonly name = "ClusterIdInUseError";
  constructor(readonly clusterId: string, readonly by: string) {
    super(`cluster id ${clusterId} is in use by ${by}: nothing was started and nothing of it was touched. ` +
      `Choose another clusterId (or none: a random one), or remove that cluster first (npx m3agg down --cluster ${clusterId}).`);
  }
}

const claims = new Map<string, HeldLock>();

/** The lock name of a cluster id. */
export const clusterLockName = (clusterId: string): string => `cluster-${clusterId}`;

/**
 * Claims `clusterId` for a start in this process, or throws {@link ClusterIdInUseError}. Asks
 * Docker once (the caller's errors, e.g. no engine, pass through). Release with
 * {@link releaseClusterId} when the cluster is gone (or kept, for reuse).
 */
export async function claimClusterId(clusterId: string): Promise<void> {
  const lock = tryLock(clusterLockName(clusterId));
  if (!("release" in lock)) throw new ClusterIdInUseError(clusterId, describeOwner(lock));
  try {
    const containers = await containersWithLabel(LABEL_CLUSTER, clusterId);
    const inUse = containers.filter((c) => isKept(c.labels) || ownerAlive(ownerOf(c.labels)));
    if (inUse.length > 0) {
      const first = inUse[0]!;
      const by = isKept(first.labels) ? "a kept (reuse) cluster"
        : `the cluster of pid ${first.labels["org.m3agg.owner-pid"] ?? "?"} on ${first.labels["org.m3agg.owner-host"] ?? "?"}`;
      throw new ClusterIdInUseError(clusterId, `${by} (containers ${inUse.map((c) => c.name).join(", ")})`);
    }
  } catch (error) {
    lock.release();
    throw error;
  }
  claims.set(clusterId, lock);
}

/** Lets go of the claim on `clusterId` (no-op when this process holds none). */
export function releaseClusterId(clusterId: string): void {
  claims.get(clusterId)?.release();
  claims.delete(clusterId);
}

function describeOwner(owner: LockOwner): string {
  return `${owner.pid === process.pid ? "this process" : `pid ${owner.pid}`} on ${owner.host} (since ${owner.at})`;
}
