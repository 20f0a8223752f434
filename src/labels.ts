/**
 * Docker labels on everything the fixture starts: how a cluster's containers
 * are found again (stop, leak checks, sweeps) without remembering ids.
 */

import * as os from "node:os";

export const LABEL_PREFIX = "org.m3agg";
export const LABEL_CLUSTER = `${LABEL_PREFIX}.cluster`;
export const LABEL_COMPONENT = `${LABEL_PREFIX}.component`;
export const LABEL_NODE = `${LABEL_PREFIX}.node`;
export const LABEL_OWNER_PID = `${LABEL_PREFIX}.owner-pid`;
export const LABEL_OWNER_HOST = `${LABEL_PREFIX}.owner-host`;
export const LABEL_STARTED_AT = `${LABEL_PREFIX}.started-at`;

export type Component = "etcd" | "m3coordinator" | "m3aggregator";

/** Labels of one container of cluster `clusterId`. */
export function containerLabels(clusterId: string, component: Component, node?: string): Record<string, string> {
  return {
    [LABEL_CLUSTER]: clusterId,
    [LABEL_COMPONENT]: component,
    [LABEL_OWNER_PID]: String(process.pid),
    [LABEL_OWNER_HOST]: os.hostname(),
    [LABEL_STARTED_AT]: new Date().toISOString(),
    ...(node === undefined ? {} : { [LABEL_NODE]: node }),
  };
}
