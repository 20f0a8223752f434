/**
 * A cluster's folder on this machine: its TLS material and the config files its containers mount.
 * Derived from the cluster id alone, so every process finds it: `m3agg down` and the orphan sweep
 * remove it like the containers. It records the process that made it, so the sweep can tell when
 * that process is gone.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ProcessIdentity, selfIdentity } from "../util/process-alive";

/** The folder holding every cluster's folder. */
export const CLUSTER_DIRS_ROOT = path.join(os.tmpdir(), "m3agg-clusters");

/** The owner file of a cluster folder: the process that made it. */
const OWNER_FILE = "owner.json";

/** The cluster's folder (it may not exist). */
export function clusterDirOf(clusterId: string): string {
  return path.join(CLUSTER_DIRS_ROOT, clusterId);
}

/** The folder of the cluster's certificates, inside its folder (mounted as one by the loopback model). */
export function clusterTlsDirOf(clusterId: string): string {
  return path.join(clusterDirOf(clusterId), "tls");
}

/** The process that made the cluster folder `dir`, or undefined (no folder, or made by an older version). */
export function clusterDirOwner(dir: string): ProcessIdentity | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), "utf8")) as ProcessIdentity;
  } catch {
    return undefined;
  }
}

/**
 * Makes the cluster's folder afresh (0700: it holds private keys), owned by this process; resolves
 * its path. Whatever an earlier cluster of the same id left there goes first.
 */
export function createClusterDir(clusterId: string): string {
  const dir = clusterDirOf(clusterId);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700); // the umask may have narrowed it
  fs.writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(selfIdentity()), { mode: 0o644 });
  return dir;
}

/** Removes the cluster's folder (no error when there is none); resolves its path when there was one. */
export function removeClusterDir(clusterId: string): string | undefined {
  const dir = clusterDirOf(clusterId);
  if (!fs.existsSync(dir)) return undefined;
  fs.rmSync(dir, { recursive: true, force: true });
  return dir;
}
