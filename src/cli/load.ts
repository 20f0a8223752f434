/**
 * `m3agg load`: by default starts its own cluster with the sink backend (the
 * flags of `up`), sends a bounded load, checks every metric exactly in the
 * sink (runLoad's checks), prints the report and removes the cluster.
 * `--cluster ID` loads a running cluster instead (send only: its sink, if
 * any, lives in the process that started it). Exit 1 unless the report is ok.
 * `--target kubernetes` starts the cluster on Kubernetes and runs the load generator there as a Job
 * (runLoadJob): the load never goes through a port-forward; counters only, ids × increments.
 */
import { attachCluster } from "../cluster/attach";
import { M3AggregatorCluster } from "../cluster/start";
import { type StartedM3AggregatorCluster } from "../cluster/started";
import { type StartedSwarmCluster, startSwarmCluster } from "../cluster/swarm";
import { formatLoadReport, InvalidLoadOptionError, LOAD_METRIC_TYPES, type LoadMetricType, type LoadOptions, resolveLoadOptions, runLoad } from "../load/run";
import type { M3AggregatorClusterOptions } from "../model/options";
import { parseUp, UsageError } from "./up-args";
import { buildImages } from "./build-images";
import { resolveTarget } from "./state";
import * as fs from "node:fs";
import { ChaosStepError, planChaos } from "../load/chaos";
import { instanceIdOf } from "../plan/plan";
import { resolveOptions } from "../cluster/options";
import { type LoadJobRunOptions, runLoadJob } from "../cluster/load-job";
import { startKubernetesCluster } from "../cluster/kubernetes";

export interface LoadCommand {
  command: "load";
  /** Cluster to load; undefined = start one (with `cluster` options), load it, remove it. */
  clusterId: string | undefined;
  cluster: M3AggregatorClusterOptions;
  load: Omit<LoadOptions, "onProgress">;
  json: boolean;
  /** `--target kubernetes`: the load runs in the cluster as a Job with these parameters (README "Load harness"). */
  job?: LoadJobRunOptions;
}

export const LOAD_USAGE = `  load           start a cluster (flags of up; backend sink), send a bounded load, check every metric
                 exactly in the sink (counters, gauges, timers, timed), report, remove it; exit 1 unless ok.
                 --rate N|max (default max)  --duration S (default 10)  --count N  --ids N (default 1000)
                 --mix counter=7,gauge=1,timer=1,timed=1 (default counter)  --connections N (default 1)
                 --settle-timeout S (default 120)  --cluster ID: load a running cluster (send only)
                 --chaos plan.json: timed steps during the send (a JSON array, README "Chaos timelines")
                 --report report.html: the report as one self-contained HTML file with charts
                 --target kubernetes (+ --kubeconfig, --context, --registry): the cluster on Kubernetes, the load
                 sent from inside it by a Job (image m3agg-local/loadgen): counters only, --ids N (default 1000)
                 x --increments N (default 100), --rate N; its report comes back through the pod log API`;

function number(flag: string, text: string | undefined, integer: boolean): number {
  if (text === undefined || text.startsWith("--")) throw new UsageError(`${flag} needs a value`);
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || (integer && !Number.isInteger(value)) || value <= 0) {
    throw new UsageError(`${flag} takes a positive ${integer ? "whole " : ""}number, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** `counter=7,gauge=1` → weights. */
export function parseMix(text: string): Partial<Record<LoadMetricType, number>> {
  const mix: Partial<Record<LoadMetricType, number>> = {};
  for (const part of text.split(",")) {
    const match = /^(\w+)(?:=(\d+))?$/.exec(part.trim());
    if (match === null || !(LOAD_METRIC_TYPES as readonly string[]).includes(match[1] as string)) {
      throw new UsageError(`--mix takes type=weight pairs of ${LOAD_METRIC_TYPES.join(", ")} (e.g. counter=7,gauge=1), got ${JSON.stringify(part)}`);
    }
    mix[match[1] as LoadMetricType] = match[2] === undefined ? 1 : Number(match[2]);
  }
  return mix;
}

/** Parses `m3agg load …`: its own flags, then the rest as the flags of `up`. */
export function parseLoadArgs(rest: string[], env: NodeJS.ProcessEnv): LoadCommand {
  const load: Omit<LoadOptions, "onProgress"> = {};
  let clusterId: string | undefined;
  let json = false;
  const upFlags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    const next = () => rest[++i];
    if (flag === "--rate") {
      const text = next();
      load.rate = text === "max" ? "max" : number(flag, text, false);
    } else if (flag === "--duration") load.durationSeconds = number(flag, next(), false);
    else if (flag === "--count") load.count = number(flag, next(), true);
    else if (flag === "--ids") load.ids = number(flag, next(), true);
    else if (flag === "--connections") load.connections = number(flag, next(), true);
    else if (flag === "--settle-timeout") load.settleTimeoutSeconds = number(flag, next(), false);
    else if (flag === "--mix") {
      const text = next();
      if (text === undefined) throw new UsageError("--mix needs a value");
      load.mix = parseMix(text);
    } else if (flag === "--cluster") {
      clusterId = next();
      if (clusterId === undefined || clusterId.startsWith("--")) throw new UsageError("--cluster needs a value");
    } else if (flag === "--chaos") {
      const file = next();
      if (file === undefined || file.startsWith("--")) throw new UsageError("--chaos needs a JSON file of steps");
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch (error) {
        throw new UsageError(`--chaos ${file}: cannot be read (${(error as Error).message})`);
      }
      try {
        const parsed = JSON.parse(text) as unknown;
        load.chaos = (Array.isArray(parsed) ? parsed : (parsed as { steps?: unknown })?.steps) as LoadOptions["chaos"];
      } catch (error) {
        throw new UsageError(`--chaos ${file}: not JSON (${(error as Error).message})`);
      }
      if (!Array.isArray(load.chaos)) throw new UsageError(`--chaos ${file}: must hold an array of steps (or { "steps": [...] })`);
    } else if (flag === "--report") {
      const file = next();
      if (file === undefined || file.startsWith("--")) throw new UsageError("--report needs a file name (e.g. report.html)");
      load.report = file;
    } else if (flag === "--json") json = true;
    else if (flag === "--detach") throw new UsageError("load removes the cluster it starts; use up --detach, then load --cluster ID");
    else upFlags.push(flag);
  }
  const targetAt = upFlags.indexOf("--target");
  if (targetAt >= 0 && upFlags[targetAt + 1] === "kubernetes") return parseLoadJobArgs(rest, env, json);
  if (targetAt >= 0) throw new UsageError("load starts its cluster on this Docker engine; --target is not a load flag except --target kubernetes (the load as a Job in the cluster)");
  if (upFlags.includes("--increments")) throw new UsageError("--increments is for --target kubernetes (the load Job sends ids x increments)");
  const up = parseUp(upFlags, env);
  if (up.options.backend !== undefined && up.options.backend !== "sink") throw new UsageError(`load starts its cluster with backend sink (the exact check reads it), got --backend ${up.options.backend}`);
  if (clusterId !== undefined && upFlags.length > 0) throw new UsageError(`--cluster loads a running cluster; the flags of up (${upFlags.join(" ")}) do not apply`);
  try {
    const resolved = resolveLoadOptions(load);
    // Bad chaos steps fail here, before a cluster starts (with --cluster: in runLoad, before the send).
    if (load.chaos !== undefined && clusterId === undefined) {
      const options = resolveOptions({ ...up.options, backend: "sink" });
      if (!Number.isFinite(resolved.durationMs)) throw new UsageError("--chaos needs --duration (steps are placed on the send's time axis)");
      planChaos(load.chaos, {
        nodeIds: Array.from({ length: options.nodes }, (_, i) => instanceIdOf(i)), shardSets: options.nodes / options.rf, rf: options.rf,
        faults: options.faults, durationMs: resolved.durationMs,
      });
    }
  } catch (error) {
    if (error instanceof InvalidLoadOptionError || error instanceof ChaosStepError) throw new UsageError(error.message);
    throw error;
  }
  return { command: "load", clusterId, cluster: { ...up.options, backend: "sink" }, load, json };
}

/** The load flags the Job takes (the rest of `load`'s are refused with --target kubernetes, naming why). */
const JOB_FLAGS = new Set(["--ids", "--increments", "--rate", "--json"]);

/** `m3agg load --target kubernetes …`: --ids, --increments, --rate, then the flags of `up --target kubernetes`. */
function parseLoadJobArgs(rest: string[], env: NodeJS.ProcessEnv, json: boolean): LoadCommand {
  const job: LoadJobRunOptions = {};
  const upFlags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    const next = () => rest[++i];
    if (flag === "--ids") job.ids = number(flag, next(), true);
    else if (flag === "--increments") job.increments = number(flag, next(), true);
    else if (flag === "--rate") {
      const text = next();
      if (text !== "max") job.rate = number(flag, text, false);
    } else if (flag === "--json") continue;
    else if (["--duration", "--count", "--mix", "--connections", "--settle-timeout", "--chaos", "--report", "--cluster"].includes(flag)) {
      throw new UsageError(`${flag} does not apply to load --target kubernetes: the load Job sends counters only, --ids x --increments at --rate (${[...JOB_FLAGS].join(", ")}), and the cluster there has no in-process sink to check`);
    } else upFlags.push(flag);
  }
  const up = parseUp(upFlags, env);
  if (up.options.backend !== undefined) throw new UsageError(`load --target kubernetes keeps the cluster's default backend (pods cannot reach an in-process sink), got --backend ${up.options.backend}`);
  return { command: "load", clusterId: undefined, cluster: up.options, load: {}, json, job };
}

/** `m3agg load --target kubernetes`: start the cluster there, run the load Job, print its report, remove the cluster. */
async function loadJob(command: LoadCommand & { job: LoadJobRunOptions }): Promise<number> {
  const o = resolveOptions(command.cluster);
  process.stderr.write(`starting cluster ${o.clusterId} on kubernetes: ${o.nodes} nodes, rf ${o.rf}, m3 ${o.m3Version} (namespace ${o.clusterId}) …\n`);
  const cluster = await startKubernetesCluster(o);
  const onSignal = () => void cluster.stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const ids = command.job.ids ?? 1000;
    const increments = command.job.increments ?? 100;
    process.stderr.write(`load job: ${ids} ids x ${increments} increments${command.job.rate === undefined ? "" : ` at ${command.job.rate}/s`} from inside namespace ${cluster.getNamespace()} …\n`);
    const result = await runLoadJob(cluster, { ...command.job, ids, increments });
    const r = result.report;
    process.stdout.write(command.json ? `${JSON.stringify(result)}\n`
      : `load job ${result.job} (pod ${result.pod}): sent ${JSON.stringify(r.sent)} of ${ids * increments}, errors ${r.errors}, ${r.ratePerSec.toFixed(0)}/s over ${r.sendMs} ms (placement ${r.initMs} ms, flush ${r.flushMs} ms); job ${result.jobMs} ms\n` +
        `each of ${ids} ids (${result.ids[0]} …) must sum to ${result.expectedPerId} in the cluster's output\n`);
    // Ok: the generator finished without errors and its client took every metric the parameters imply.
    return r.ok && r.errors === 0 && r.sent.counter === ids * increments ? 0 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.stderr.write(`removing cluster ${cluster.getClusterId()} …\n`);
    await cluster.stop();
  }
}

/** Runs `m3agg load`; returns the exit code. */
export async function load(command: LoadCommand): Promise<number> {
  if (command.job !== undefined) return loadJob(command as LoadCommand & { job: LoadJobRunOptions });
  const onProgress: LoadOptions["onProgress"] = (p) => {
    const sink = p.sink === undefined ? "" : `; sink: ${p.sink.datapoints.toLocaleString("en-US")} datapoints, counters ${p.sink.counterTotal.toLocaleString("en-US")}/${p.sink.expectedCounterTotal.toLocaleString("en-US")}`;
    process.stderr.write(`[${(p.elapsedMs / 1000).toFixed(0).padStart(4)}s] ${p.phase === "send" ? "sending" : "settling"}: sent ${p.sent.toLocaleString("en-US")}, ${p.ratePerSec.toLocaleString("en-US")}/s${sink}\n`);
  };
  let cluster: StartedM3AggregatorCluster | StartedSwarmCluster;
  let owned = false;
  if (command.clusterId === undefined) {
    const fixture = new M3AggregatorCluster(command.cluster);
    if (fixture.options.m3Source === undefined) buildImages(false, fixture.options.m3Version);
    const swarm = fixture.options.target.kind === "swarm" ? ` on the swarm of ${fixture.options.target.engines.join(", ")}` : "";
    process.stderr.write(`starting cluster ${fixture.options.clusterId}${swarm}: ${fixture.options.nodes} nodes, rf ${fixture.options.rf}, m3 ${fixture.options.m3Version}, backend sink …\n`);
    // On a swarm the load dials each node through the cluster's dial map.
    cluster = fixture.options.target.kind === "swarm" ? await startSwarmCluster(fixture.options) : await fixture.start();
    owned = true;
  } else {
    cluster = await attachCluster(await resolveTarget({ clusterId: command.clusterId }));
  }
  const stop = async () => {
    if (owned) {
      process.stderr.write(`removing cluster ${cluster.getId()} …\n`);
      await cluster.stop();
    }
  };
  const onSignal = () => void stop().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const report = await runLoad(cluster, { ...command.load, verify: owned, onProgress });
    process.stdout.write(`${command.json ? JSON.stringify(report) : formatLoadReport(report)}\n`);
    if (command.load.report !== undefined) process.stderr.write(`report written to ${command.load.report}
`);
    // Not ok = exit 1. Send only (--cluster: no sink here): exit 0 only when something was sent and the client lost nothing.
    if (report.verified) return report.ok ? 0 : 1;
    return report.sent > 0 && report.delivery !== null && report.delivery.lost === 0 && report.delivery.dropped === 0 ? 0 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stop();
  }
}
