/**
 * Docker labels on everything the fixture starts: how a cluster's containers
 * are found again (stop, leak checks, sweeps) without remembering ids.
 */

import { selfIdentity } from "../util/process-identity";

export const LABEL_PREFIX = "org.m3agg";
export const LABEL_CLUSTER = `${LABEL_PREFIX}.cluster`;
export const LABEL_COMPONENT = `${LABEL_PREFIX}.component`;
export const LABEL_NODE = `${LABEL_PREFIX}.node`;
export const LABEL_OWNER_PID = `${LABEL_PREFIX}.owner-pid`;
export const LABEL_OWNER_HOST = `${LABEL_PREFIX}.owner-host`;
/** The owner process's start time (/proc/<pid>/stat field 22): a reused pid is not taken for the owner. */
export const LABEL_OWNER_START = `${LABEL_PREFIX}.owner-start`;
/** The owner process's pid namespace. */
export const LABEL_OWNER_NS = `${LABEL_PREFIX}.owner-ns`;
/** The label Testcontainers' reaper (Ryuk) removes containers by when their session ends. */
export const LABEL_RYUK_SESSION = "org.testcontainers.session-id";
export const LABEL_STARTED_AT = `${LABEL_PREFIX}.started-at`;
/** JSON of the container's listening ports, so a cluster can be attached to from another process. */
export const LABEL_PORTS = `${LABEL_PREFIX}.ports`;
/**
 * The cluster plan's inputs, `{ "v": 1, options, ports, images }` (cluster/plan.ts), on every
 * container: another process rebuilds the same plan, and so the same handle, from it.
 */
export const LABEL_PLAN = `${LABEL_PREFIX}.plan`;
/** Set on clusters kept between runs (reuse mode); the sweep leaves them alone. */
export const LABEL_REUSE = `${LABEL_PREFIX}.reuse`;

export type Component = "etcd" | "m3coordinator" | "m3aggregator";

/** What every container of a cluster is labelled with. */
export interface ClusterLabels {
  clusterId: string;
  /** Reuse key: the cluster outlives its owner process (no owner-pid label). */
  reuseKey?: string;
}

/** The labels that say what a container is: cluster, component, node, ports, reuse key. Pure: part of the plan. */
export function identityLabels(cluster: ClusterLabels, component: Component, ports: object, node?: string): Record<string, string> {
  return {
    [LABEL_CLUSTER]: cluster.clusterId,
    [LABEL_COMPONENT]: component,
    [LABEL_PORTS]: JSON.stringify(ports),
    ...(cluster.reuseKey === undefined ? {} : { [LABEL_REUSE]: cluster.reuseKey }),
    ...(node === undefined ? {} : { [LABEL_NODE]: node }),
  };
}

/**
 * The labels that say who created a container and when, added at creation: the sweep removes
 * containers whose owner process died. A reuse-mode container has no owner pid (it outlives its owner).
 */
export function ownerLabels(labels: Record<string, string>): Record<string, string> {
  const me = selfIdentity();
  return {
    [LABEL_OWNER_HOST]: me.host,
    [LABEL_STARTED_AT]: new Date().toISOString(),
    ...(isKept(labels) ? {} : { [LABEL_OWNER_PID]: String(me.pid), [LABEL_OWNER_START]: me.start, [LABEL_OWNER_NS]: me.ns }),
  };
}

/** A container of a kept (reuse) cluster: it outlives the process that made it. */
export function isKept(labels: Record<string, string>): boolean {
  return labels[LABEL_REUSE] !== undefined;
}

/** The owner process named by a container's labels (for ownerAlive). */
export function ownerOf(labels: Record<string, string>): { pid: number; host: string | undefined; start: string | undefined; ns: string | undefined } {
  return { pid: Number(labels[LABEL_OWNER_PID]), host: labels[LABEL_OWNER_HOST], start: labels[LABEL_OWNER_START], ns: labels[LABEL_OWNER_NS] };
}
