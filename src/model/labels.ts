/**
 * Docker labels on everything the fixture starts: how a cluster's containers
 * are found again (stop, leak checks, sweeps) without remembering ids.
 */
import type { Component } from "./components";

export const LABEL_PREFIX = "org.m3agg";
export const LABEL_CLUSTER = `${LABEL_PREFIX}.cluster`;
export const LABEL_COMPONENT = `${LABEL_PREFIX}.component`;
export const LABEL_NODE = `${LABEL_PREFIX}.node`;
export const LABEL_OWNER_PID = `${LABEL_PREFIX}.owner-pid`;
export const LABEL_OWNER_HOST = `${LABEL_PREFIX}.owner-host`;
export const LABEL_STARTED_AT = `${LABEL_PREFIX}.started-at`;
/** JSON of the container's listening ports, so a cluster can be attached to from another process. */
export const LABEL_PORTS = `${LABEL_PREFIX}.ports`;
/**
 * The cluster plan's inputs, `{ "v": 1, options, ports, images }` (plan/label.ts), on every
 * container: another process rebuilds the same plan, and so the same handle, from it.
 */
export const LABEL_PLAN = `${LABEL_PREFIX}.plan`;
/** Set on clusters kept between runs (reuse mode); the sweep leaves them alone. */
export const LABEL_REUSE = `${LABEL_PREFIX}.reuse`;

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
