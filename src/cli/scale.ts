/**
 * `m3agg scale --add N | --remove ID,ID | --replace ID`: one live topology change of a running
 * cluster, with progress per phase on stderr; prints the TopologyChange (table or JSON). And the
 * shard-state lines `m3agg status` prints.
 */
import { attachCluster } from "../cluster/attach";
import type { TopologyChange } from "../cluster/topology";
import { summarizeShardStates } from "../m3/placement-change";
import type { Placement } from "../m3/types";
import { eachFlag, type Target, toInteger, UsageError } from "./up-args";
import { resolveTarget } from "./state";

export type ScaleCommand = {
  command: "scale";
  target: Target;
  json: boolean;
  action: { add: number } | { remove: string[] } | { replace: string };
};

export const SCALE_USAGE = `  scale          change a running cluster's placement under load, as an operator does (admin API,
                 fast cutover, wait for cutoff and flush, remove leaving containers), with progress:
                 --add N (new nodes, a multiple of rf) | --remove ID,ID (whole shard sets) | --replace ID`;

export function parseScaleArgs(rest: string[]): ScaleCommand {
  const target: Target = { clusterId: undefined };
  let json = false;
  const actions: ScaleCommand["action"][] = [];
  const positional = eachFlag(rest, (flag, value) => {
    if (flag === "--cluster") target.clusterId = value();
    else if (flag === "--json") json = true;
    else if (flag === "--add") actions.push({ add: toInteger(flag, value()) });
    else if (flag === "--remove") {
      const ids = value().split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (ids.length === 0) throw new UsageError("--remove takes instance ids separated by commas, e.g. m3aggregator03,m3aggregator04");
      actions.push({ remove: ids });
    } else if (flag === "--replace") actions.push({ replace: value() });
    else return false;
    return true;
  });
  if (positional.length > 0) throw new UsageError(`scale takes no arguments, got ${JSON.stringify(positional[0])}`);
  if (actions.length !== 1) throw new UsageError("scale takes exactly one of --add N, --remove ID,ID, --replace ID");
  return { command: "scale", target, json, action: actions[0] as ScaleCommand["action"] };
}

const iso = (ms: number | null): string => (ms === null ? "-" : new Date(ms).toISOString().replace(/\.000Z$/, "Z"));

/** One line per instance: shard set, id, shard counts by state, and each (state, cutover, cutoff) group. */
export function formatShardStates(placement: Placement): string[] {
  return summarizeShardStates(placement).map((s) => `shard set ${s.shardSetId} ${s.instance}: ` +
    s.groups.map((g) => `${g.shards} ${g.state} (cutover ${iso(g.cutoverMs)}, cutoff ${iso(g.cutoffMs)})`).join(", "));
}

/** The TopologyChange as lines. */
export function formatChange(change: TopologyChange): string {
  const phases = Object.entries(change.phasesMs).map(([p, ms]) => `${p} ${(ms / 1000).toFixed(1)}s`).join(", ");
  const leaders = (r: Record<string, string | null>) => Object.entries(r).map(([s, l]) => `${s}=${l ?? "none"}`).join(" ");
  return [
    `${change.kind}: +[${change.added.join(", ")}] -[${change.removed.join(", ")}] in ${(change.totalMs / 1000).toFixed(1)}s`,
    `placement versions: ${change.placementVersions.before} -> ${change.placementVersions.adminCall} (admin call) -> ${change.placementVersions.changeTime} (cutover rewrite) -> ${change.placementVersions.after} (final)`,
    `cutover = cutoff T: ${change.changeTime} (the coordinator chose ${change.coordinatorChangeTime})`,
    `phases: ${phases}`,
    `leaders before: ${leaders(change.leadersBefore)}; after: ${leaders(change.leadersAfter)}`,
  ].join("\n");
}

export async function scale(command: ScaleCommand): Promise<number> {
  const cluster = await attachCluster(await resolveTarget(command.target));
  const begin = Date.now();
  const onProgress = (event: { phase: string; status: string; detail?: string }): void => {
    const at = `[${((Date.now() - begin) / 1000).toFixed(1).padStart(5)}s]`;
    process.stderr.write(`${at} ${event.phase} ${event.status === "start" ? `…${event.detail ? ` ${event.detail}` : ""}` : "done"}\n`);
  };
  const action = command.action;
  const change = "add" in action ? (await cluster.addNodes(action.add, { onProgress })).change
    : "remove" in action ? await cluster.removeNodes(action.remove, { onProgress })
      : (await cluster.replaceNode(action.replace, { onProgress })).change;
  const placement = await cluster.placement();
  if (command.json) process.stdout.write(`${JSON.stringify({ clusterId: cluster.getId(), change })}\n`);
  else process.stdout.write(`${formatChange(change)}\n${formatShardStates(placement).join("\n")}\n`);
  return 0;
}
