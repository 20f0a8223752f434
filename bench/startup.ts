/**
 * Startup benchmark: start()→ready and stop() of the fixture, against the same
 * binaries started as plain processes (no Docker) with the same configs and
 * the same bring-up sequence (etcd, coordinator and aggregators start together in both), so
 * the fixture's overhead is a ratio. Phases overlap, so they do not add up to READY.
 * In one run: m3 v1.6.0 with TLS (the default), v1.6.0 without TLS, v1.5.0, v1.6.0 with m3's shipped
 * (old) election intervals instead of the fixture's tuned ones; bare processes of both versions with
 * the fixture's configs, of v1.6.0 with TLS (the same configs, certificate paths pointing at files the
 * bare run generates in its timed window, as the fixture does) and of v1.6.0 with the old intervals.
 * "overhead" is fixture ready minus bare ready of the same configs in the same run. "first start" is
 * the default cluster started in a new process each time (what a test runner's worker sees), timed
 * from start() to ready inside that process; the other fixture columns are a long-lived process's
 * later starts.
 *
 *   npm run bench:startup            # 7 runs each, 4 nodes rf 2
 *   BENCH_RUNS=5 BENCH_NODES=2 BENCH_RF=2 npm run bench:startup
 *
 * Prints a table, then one JSON document on the last line.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { M3AdminClient } from "../src/m3/admin-client";
import { shardSetsOf } from "../src/m3/placement";
import { AggregatorApi } from "../src/m3/aggregator-api";
import { M3AggregatorCluster } from "../src/cluster/start";
import { etcdArgs, planCluster } from "../src/plan/plan";
import { createPlacement } from "../src/m3/create-placement";
import { resolveImages } from "../src/docker/images";
import type { M3Version } from "../src/model/versions";
import type { M3AggregatorClusterOptions } from "../src/model/options";
import { resolveOptions } from "../src/cluster/options";
import { planPorts } from "../src/ports";
import { waitForElection } from "../src/cluster/readiness";
import { createTlsMaterial } from "../src/tls/material";
import { CONTAINER_TLS_DIR } from "../src/model/tls";
import { OLD_INTERVALS } from "./old-intervals";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const NODES = Number(process.env.BENCH_NODES ?? 4);
const RF = Number(process.env.BENCH_RF ?? 2);

type Phases = Record<string, number>;


const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
};

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

/** Copies the binaries out of the images the fixture would run, so both sides run the same bytes. */
async function extractBinaries(dir: string, version: M3Version): Promise<Record<"etcd" | "m3coordinator" | "m3aggregator", string>> {
  const images = await resolveImages(resolveOptions({ m3Version: version, tls: false }));
  const paths = { etcd: "/usr/local/bin/etcd", m3coordinator: "/bin/m3coordinator", m3aggregator: "/bin/m3aggregator" } as const;
  const out = {} as Record<keyof typeof paths, string>;
  for (const [name, inImage] of Object.entries(paths) as Array<[keyof typeof paths, string]>) {
    const id = execFileSync("docker", ["create", images[name].image], { encoding: "utf8" }).trim();
    try {
      execFileSync("docker", ["cp", `${id}:${inImage}`, path.join(dir, `${name}-${version}`)]);
    } finally {
      execFileSync("docker", ["rm", id]);
    }
    out[name] = path.join(dir, `${name}-${version}`);
  }
  return out;
}

/** The fixture's sequence with plain processes: etcd, coordinator, placement, aggregators in parallel, election. */
async function bareRun(bin: Record<"etcd" | "m3coordinator" | "m3aggregator", string>, workDir: string, version: M3Version,
  configOverrides?: M3AggregatorClusterOptions["configOverrides"], tls = false): Promise<{ phases: Phases; ready: number; stop: number }> {
  const options = resolveOptions({ nodes: NODES, rf: RF, m3Version: version, configOverrides, ...(tls ? {} : { tls: false }) });
  const processes: ChildProcess[] = [];
  const phases: Phases = {};
  const t0 = Date.now();
  let mark = t0;
  const phase = (name: string) => {
    const now = Date.now();
    phases[name] = now - mark;
    mark = now;
  };
  const run = (file: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: "ignore" });
    processes.push(child);
    return child;
  };
  try {
    const ports = await planPorts(options);
    // The fixture's plan, run as plain processes: the same etcd arguments, configs and placement steps.
    // The "images" here are the binaries copied out of them.
    const plan = planCluster({
      options: { ...options, logLevel: "info" }, ports,
      images: { etcd: { image: bin.etcd, source: "local" }, m3coordinator: { image: bin.m3coordinator, source: "local" }, m3aggregator: { image: bin.m3aggregator, source: "local" } },
    });
    phase("ports");
    // TLS: the fixture's certificates, generated as its "files" phase does, at paths of this run.
    const tlsDir = fs.mkdtempSync(path.join(workDir, "tls-"));
    if (plan.tls !== undefined) await createTlsMaterial(tlsDir, plan.clusterId, plan.tls.serverName);
    const configOf = (config: string) => config.replaceAll(`${CONTAINER_TLS_DIR}/`, `${tlsDir}/`);
    const dataDir = fs.mkdtempSync(path.join(workDir, "etcd-"));
    run(bin.etcd, etcdArgs(plan.host, plan.etcd.clientPort, plan.etcd.peerPort, dataDir));
    const etcdHealthy = until("etcd", () => healthy(`${plan.etcd.url}/health`));
    // Same overlap as the fixture: etcd, aggregators and coordinator start together.
    const apis = new Map<string, AggregatorApi>();
    const aggregatorsHealthy = Promise.all(plan.nodes.map(async (node) => {
      const file = path.join(workDir, `${node.id}.yml`);
      fs.writeFileSync(file, configOf(node.config));
      run(bin.m3aggregator, ["-f", file], { M3AGGREGATOR_HOST_ID: node.id });
      const api = new AggregatorApi(node.httpUrl);
      apis.set(node.id, api);
      await until(`aggregator ${node.id}`, () => api.isHealthy());
    }));
    const coordinatorYaml = path.join(workDir, "m3coordinator.yml");
    fs.writeFileSync(coordinatorYaml, plan.coordinator.config);
    run(bin.m3coordinator, ["-f", coordinatorYaml]);
    const admin = new M3AdminClient(plan.coordinator.adminUrl);
    await Promise.all([etcdHealthy, until("coordinator", () => admin.isHealthy())]);
    phase("etcd+coordinator");
    const placement = await createPlacement(admin, plan.placement);
    phase("placement");
    await aggregatorsHealthy;
    phase("aggregators (after placement)");
    await waitForElection(shardSetsOf(placement), apis, 60_000);
    phase("election");
    const ready = Date.now() - t0;
    const s0 = Date.now();
    await Promise.all(processes.map((p) => new Promise((resolve) => { p.once("exit", resolve); p.kill("SIGKILL"); })));
    return { phases, ready, stop: Date.now() - s0 };
  } finally {
    for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  }
}

async function fixtureRun(variant: M3AggregatorClusterOptions): Promise<{ phases: Phases; ready: number; stop: number }> {
  const t0 = Date.now();
  const cluster = await M3AggregatorCluster.start({ nodes: NODES, rf: RF, ...variant });
  const ready = Date.now() - t0;
  await cluster.stop();
  const { total: _total, ...phases } = cluster.startupTimings;
  return { phases: phases as Phases, ready, stop: cluster.getStopTimeMs() ?? NaN };
}

/** The default cluster (v1.6.0, TLS) started by a new process: its first start, as a test runner's worker makes it. */
async function firstStartRun(): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", __filename, "first-start", String(NODES), String(RF)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`first-start child exited ${code}: ${out}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as Run;
}

const FIXTURE_VARIANTS: Array<{ name: string; bare: string; options: M3AggregatorClusterOptions }> = [
  { name: "v1.6.0 TLS", bare: "bare 1.6 TLS", options: { m3Version: "v1.6.0" } },
  { name: "v1.6.0 plain", bare: "bare v1.6.0", options: { m3Version: "v1.6.0", tls: false } },
  { name: "v1.5.0", bare: "bare v1.5.0", options: { m3Version: "v1.5.0" } },
  { name: "v1.6.0 old", bare: "bare 1.6 old", options: { m3Version: "v1.6.0", configOverrides: OLD_INTERVALS } },
];
const BARE_VERSIONS: M3Version[] = ["v1.6.0", "v1.5.0"];
const BARE_VARIANTS: Array<{ name: string; version: M3Version; overrides?: M3AggregatorClusterOptions["configOverrides"]; tls?: boolean }> = [
  { name: "bare 1.6 TLS", version: "v1.6.0", tls: true },
  { name: "bare v1.6.0", version: "v1.6.0" },
  { name: "bare v1.5.0", version: "v1.5.0" },
  { name: "bare 1.6 old", version: "v1.6.0", overrides: OLD_INTERVALS },
];

type Run = { phases: Phases; ready: number; stop: number };

async function main(): Promise<void> {
  const loadBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-bench-"));
  try {
    const bins = Object.fromEntries(await Promise.all(BARE_VERSIONS.map(async (v) => [v, await extractBinaries(workDir, v)] as const)));
    const runs = new Map<string, Run[]>();
    const record = (name: string, run: Run) => runs.set(name, [...(runs.get(name) ?? []), run]);
    // Warm-up of each (page cache, image layers), not counted.
    for (const variant of FIXTURE_VARIANTS) await fixtureRun(variant.options);
    for (const v of BARE_VARIANTS) await bareRun(bins[v.version]!, workDir, v.version, v.overrides, v.tls);
    for (let i = 0; i < RUNS; i++) {
      for (const variant of FIXTURE_VARIANTS) record(variant.name, await fixtureRun(variant.options));
      for (const v of BARE_VARIANTS) record(v.name, await bareRun(bins[v.version]!, workDir, v.version, v.overrides, v.tls));
      // Last in the round: the new process's start-up (tsx compiling the package) loads the machine for a while.
      record("first start", await firstStartRun());
    }
    const summarize = (list: Run[]) => ({
      readyMs: { median: median(list.map((r) => r.ready)), min: Math.min(...list.map((r) => r.ready)), max: Math.max(...list.map((r) => r.ready)), runs: list.map((r) => r.ready) },
      stopMs: { median: median(list.map((r) => r.stop)), runs: list.map((r) => r.stop) },
      phasesMedianMs: Object.fromEntries([...new Set(list.flatMap((r) => Object.keys(r.phases)))].map((k) => [k, median(list.map((r) => r.phases[k] ?? 0))])),
    });
    const results = Object.fromEntries([...runs.entries()].map(([name, list]) => [name, summarize(list)]));
    const ratios = Object.fromEntries(FIXTURE_VARIANTS.map((v) => [v.name,
      Math.round((results[v.name]!.readyMs.median / results[v.bare]!.readyMs.median) * 100) / 100]));
    const overheads = Object.fromEntries(FIXTURE_VARIANTS.map((v) => [v.name, results[v.name]!.readyMs.median - results[v.bare]!.readyMs.median]));
    const result = {
      benchmark: "startup", nodes: NODES, rf: RF, runs: RUNS,
      machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverage: { before: loadBefore, after: os.loadavg().map((l) => Math.round(l * 100) / 100) } },
      results, readyRatioToBare: ratios, overheadMs: overheads, goals: { readyMedianMs: 1000, overheadMs: 250 },
    };
    const names = [...runs.keys()];
    const phaseNames = [...new Set(names.flatMap((n) => Object.keys(results[n]!.phasesMedianMs)))];
    const width = 14;
    console.log(`startup, ${NODES} nodes rf ${RF}, median of ${RUNS} (ms)`);
    console.log(["", ...names].map((s) => s.padStart(width)).join(""));
    const row = (label: string, pick: (n: string) => number | undefined) =>
      console.log([label, ...names.map((n) => String(pick(n) ?? "-"))].map((s) => s.padStart(width)).join(""));
    for (const phase of phaseNames) row(phase, (n) => results[n]!.phasesMedianMs[phase]);
    row("READY", (n) => results[n]!.readyMs.median);
    row("ready min", (n) => results[n]!.readyMs.min);
    row("ready max", (n) => results[n]!.readyMs.max);
    row("stop", (n) => results[n]!.stopMs.median);
    for (const v of FIXTURE_VARIANTS) {
      const ready = results[v.name]!.readyMs.median;
      console.log(`${v.name}: ready ${ready} ms (goal ≤ ${result.goals.readyMedianMs}: ${ready <= result.goals.readyMedianMs ? "met" : "NOT met"}), ` +
        `overhead over ${v.bare} ${overheads[v.name]} ms (goal ≤ ${result.goals.overheadMs}: ${overheads[v.name]! <= result.goals.overheadMs ? "met" : "NOT met"}), ratio ${ratios[v.name]}x`);
    }
    const first = results["first start"]!.readyMs.median;
    console.log(`first start in a new process (v1.6.0 TLS): ready ${first} ms, over bare 1.6 TLS ${first - results["bare 1.6 TLS"]!.readyMs.median} ms`);
    console.log(`load average (1/5/15 min) before ${loadBefore.join(" ")}, after ${result.machine.loadAverage.after.join(" ")} on ${os.cpus().length} CPUs`);
    console.log(JSON.stringify(result));
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "first-start") {
  const [nodes, rf] = process.argv.slice(3).map(Number);
  void (async () => {
    const t0 = Date.now();
    const cluster = await M3AggregatorCluster.start({ nodes, rf, m3Version: "v1.6.0" });
    const ready = Date.now() - t0;
    await cluster.stop();
    const { total: _total, ...phases } = cluster.startupTimings;
    console.log(JSON.stringify({ phases, ready, stop: cluster.getStopTimeMs() ?? NaN }));
  })().catch((error) => { console.error(error); process.exit(1); });
} else main().catch((error) => {
  console.error(error);
  process.exit(1);
});
