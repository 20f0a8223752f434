/**
 * Targets benchmark: start → ready of a 4x2 cluster on one engine (target docker, loopback model)
 * against the same cluster on a two-engine Swarm (target swarm, named model; engines from
 * scripts/swarm-engines.sh, created and removed here), in one run, alternating. For swarm,
 * "apply → ready" is `docker stack deploy` → settled election; "start" adds the image and
 * placement checks. Needs root (network namespaces) and the local images. TLS off in both.
 *
 *   npm run bench:targets            # 3 runs each
 *   BENCH_RUNS=5 npm run bench:targets
 *
 * Prints a table, then one JSON document on the last line.
 */
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import type { SwarmStartupTimings } from "../src/cluster/swarm";
import { M3AggregatorCluster } from "../src/cluster/start";
import { defaultM3Version, versionProfile } from "../src/model/versions";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCRIPT = path.resolve(__dirname, "../scripts/swarm-engines.sh");
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
};

async function main(): Promise<void> {
  const id = `b${Math.random().toString(36).slice(2, 7)}`;
  const images = Object.entries(versionProfile(defaultM3Version()).localImages).filter(([k]) => k !== "m3aggregatorDebug").map(([, v]) => v);
  const script = (...args: string[]) => execFileSync("bash", [SCRIPT, ...args], { env: { ...process.env, OWNER_PID: String(process.pid) }, stdio: ["ignore", "pipe", "inherit"] }).toString();
  const t0 = Date.now();
  const engines = JSON.parse(script("up", id, ...images).trim().split("\n").pop() as string) as { engines: Array<{ host: string; relay: string }>; sinkSocket: string };
  const enginesUpMs = Date.now() - t0;
  const loopback: number[] = [];
  const loopbackStop: number[] = [];
  const swarmTimings: SwarmStartupTimings[] = [];
  const swarmStop: number[] = [];
  const loadBefore = os.loadavg()[0] as number;
  try {
    for (let run = 0; run < RUNS; run++) {
      const local = await M3AggregatorCluster.start({ nodes: 4, rf: 2, tls: false, clusterId: `bench-loop-${id}-${run}` });
      loopback.push(local.startupTimings.total);
      let t = Date.now();
      await local.stop();
      loopbackStop.push(Date.now() - t);
      const swarm = await M3AggregatorCluster.start({
        nodes: 4, rf: 2, tls: false, clusterId: `bench-swarm-${id}-${run}`,
        target: { swarm: { engines: engines.engines.map((e) => e.host), relays: { engines: engines.engines.map((e) => e.relay), sink: engines.sinkSocket } } },
      });
      swarmTimings.push(swarm.startupTimings);
      t = Date.now();
      await swarm.stop();
      swarmStop.push(Date.now() - t);
      process.stderr.write(`[bench] run ${run + 1}/${RUNS}: loopback ${loopback.at(-1)} ms, swarm apply→ready ${swarm.startupTimings.applyToReadyMs} ms (start ${swarm.startupTimings.total} ms; ${JSON.stringify(swarm.startupTimings)})\n`);
    }
  } finally {
    script("down", id);
  }
  const stat = (values: number[]) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values), all: values });
  const phase = (key: keyof SwarmStartupTimings) => stat(swarmTimings.map((t) => t[key]));
  const result = {
    runs: RUNS, nodes: 4, rf: 2, enginesUpMs, dockerHost: process.env.DOCKER_HOST ?? "default",
    loadAverage: { before: Math.round(loadBefore * 100) / 100, after: Math.round((os.loadavg()[0] as number) * 100) / 100 },
    loopbackStartToReadyMs: stat(loopback),
    loopbackStopMs: stat(loopbackStop),
    swarmApplyToReadyMs: phase("applyToReadyMs"),
    swarmStartToReadyMs: phase("total"),
    swarmPhasesMs: Object.fromEntries((["prepareMs", "deployMs", "tasksMs", "coordinatorMs", "placementMs", "nodesMs", "electionMs"] as const).map((k) => [k, phase(k)])),
    swarmStopMs: stat(swarmStop),
  };
  const cell = (s: { median: number; min: number; max: number }) => `${s.median} (${s.min}–${s.max})`;
  process.stdout.write(`| 4x2, TLS off, median (min–max) of ${RUNS}, same run | ms |\n|---|---|\n` +
    `| one engine (loopback): start → ready | ${cell(result.loopbackStartToReadyMs)} |\n` +
    `| two-engine Swarm: \`docker stack deploy\` → ready | ${cell(result.swarmApplyToReadyMs)} |\n` +
    Object.entries(result.swarmPhasesMs).map(([k, v]) => `| &nbsp;&nbsp;swarm phase ${k.replace(/Ms$/, "")} | ${cell(v)} |\n`).join("") +
    `| two-engine Swarm: start → ready | ${cell(result.swarmStartToReadyMs)} |\n` +
    `| stop: loopback / swarm | ${cell(result.loopbackStopMs)} / ${cell(result.swarmStopMs)} |\n` +
    `| two engines + swarm up (once, images loaded) | ${enginesUpMs} |\n` +
    `| load average before → after | ${result.loadAverage.before} → ${result.loadAverage.after} |\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:targets failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
