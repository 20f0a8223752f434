/**
 * Which cluster a CLI command acts on. `up` writes a state file (like the
 * seed's generated files) in `.m3agg/` of the working directory, or
 * M3AGG_STATE_DIR; other commands read it when --cluster is not given, and
 * fall back to the only fixture cluster running on the engine.
 */
import * as fs from "node:fs";
import { stateDirSetting } from "../model/environment";
import * as path from "node:path";
import { containersWithLabel } from "../docker/client";
import { LABEL_CLUSTER } from "../model/labels";
import type { Target } from "./up-args";
import type { EndpointSummary } from "./endpoints";

/** No cluster to act on (exit code 3). */
export class NoClusterError extends Error {
  override readonly name = "NoClusterError";
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return stateDirSetting(env) ?? path.join(process.cwd(), ".m3agg");
}

const stateFile = (): string => path.join(stateDir(), "state.json");

/** Records the cluster `up` started (its endpoint summary). */
export function writeState(summary: EndpointSummary): string {
  fs.mkdirSync(stateDir(), { recursive: true });
  fs.writeFileSync(stateFile(), `${JSON.stringify(summary, null, 2)}\n`);
  return stateFile();
}

/** The summary `up` wrote, if any. */
export function readState(): EndpointSummary | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFile(), "utf8")) as EndpointSummary;
  } catch {
    return undefined;
  }
}

/** Forgets the state file when it names `clusterId`. */
export function clearState(clusterId: string): void {
  if (readState()?.clusterId === clusterId) fs.rmSync(stateFile(), { force: true });
}

/** Every fixture cluster id on the engine. */
export async function runningClusters(): Promise<string[]> {
  return [...new Set((await containersWithLabel(LABEL_CLUSTER)).map((c) => c.labels[LABEL_CLUSTER] as string))].sort();
}

/** Resolves --cluster, else the state file, else the single running cluster. */
export async function resolveTarget(target: Target): Promise<string> {
  const running = await runningClusters();
  const wanted = target.clusterId ?? readState()?.clusterId;
  if (wanted !== undefined) {
    if (!running.includes(wanted)) {
      throw new NoClusterError(`cluster ${wanted} is not running (running: ${running.join(", ") || "none"})`);
    }
    return wanted;
  }
  if (running.length === 1) return running[0] as string;
  throw new NoClusterError(running.length === 0
    ? "no fixture cluster is running (start one with `m3agg up`)"
    : `several clusters are running, choose one with --cluster: ${running.join(", ")}`);
}
