/**
 * Startup benchmark: start()→ready and stop() of the fixture, against the same
 * binaries started as plain processes (no Docker) with the same configs and
 * the same bring-up sequence (etcd, coordinator and aggregators start together in both), so
 * the fixture's overhead is a ratio. Phases overlap, so they do not add up to READY.
 *
 *   npm run bench:startup            # 3 runs each, 4 nodes rf 2
 *   BENCH_RUNS=5 BENCH_NODES=2 BENCH_RF=2 npm run bench:startup
 *
 * Prints a table, then one JSON document on the last line.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { M3AdminClient } from "../src/admin/admin-client";
import { buildPlacementInitRequest, shardSetsOf, withImmediateCutover } from "../src/admin/placement";
import { AggregatorApi } from "../src/aggregator-api";
import { instanceIdOf, M3AggregatorCluster } from "../src/cluster";
import { renderAggregatorConfig, renderCoordinatorConfig } from "../src/config/render";
import { resolveImages } from "../src/images";
import { defaultM3Version } from "../src/m3/versions";
import { resolveOptions } from "../src/options";
import { LOOPBACK, planPorts } from "../src/ports";
import { waitForElection } from "../src/readiness";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
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
async function extractBinaries(dir: string): Promise<Record<"etcd" | "m3coordinator" | "m3aggregator", string>> {
  const images = await resolveImages({}, defaultM3Version());
  const paths = { etcd: "/usr/local/bin/etcd", m3coordinator: "/bin/m3coordinator", m3aggregator: "/bin/m3aggregator" } as const;
  const out = {} as Record<keyof typeof paths, string>;
  for (const [name, inImage] of Object.entries(paths) as Array<[keyof typeof paths, string]>) {
    const id = execFileSync("docker", ["create", images[name].image], { encoding: "utf8" }).trim();
    try {
      execFileSync("docker", ["cp", `${id}:${inImage}`, path.join(dir, name)]);
    } finally {
      execFileSync("docker", ["rm", id]);
    }
    out[name] = path.join(dir, name);
  }
  return out;
}

/** The fixture's sequence with plain processes: etcd, coordinator, placement, aggregators in parallel, election. */
async function bareRun(bin: Record<"etcd" | "m3coordinator" | "m3aggregator", string>, workDir: string): Promise<{ phases: Phases; ready: number; stop: number }> {
  const options = resolveOptions({ nodes: NODES, rf: RF });
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
    phase("ports");
    const dataDir = fs.mkdtempSync(path.join(workDir, "etcd-"));
    const client = `http://${LOOPBACK}:${ports.etcdClient}`;
    const peer = `http://${LOOPBACK}:${ports.etcdPeer}`;
    run(bin.etcd, ["--name", "etcd0", "--data-dir", dataDir, "--listen-client-urls", client, "--advertise-client-urls", client,
      "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", `etcd0=${peer}`,
      "--logger", "zap", "--log-level", "warn", "--heartbeat-interval", "10", "--election-timeout", "100"]);
    const etcdHealthy = until("etcd", () => healthy(`${client}/health`));
    // Same overlap as the fixture: etcd, aggregators and coordinator start together.
    const apis = new Map<string, AggregatorApi>();
    const aggregatorsHealthy = Promise.all(ports.nodes.map(async (nodePorts, i) => {
      const file = path.join(workDir, `m3aggregator${i}.yml`);
      fs.writeFileSync(file, renderAggregatorConfig({
        ports: nodePorts, etcdClientPort: ports.etcdClient, electionTtlSeconds: options.electionTtlSeconds,
        backend: options.backend, logLevel: "info",
      }));
      run(bin.m3aggregator, ["-f", file], { M3AGGREGATOR_HOST_ID: instanceIdOf(i) });
      const api = new AggregatorApi(`http://${LOOPBACK}:${nodePorts.http}`);
      apis.set(instanceIdOf(i), api);
      await until(`aggregator ${i}`, () => api.isHealthy());
    }));
    const coordinatorYaml = path.join(workDir, "m3coordinator.yml");
    fs.writeFileSync(coordinatorYaml, renderCoordinatorConfig({
      port: ports.coordinator, metricsPort: ports.coordinatorMetrics, etcdClientPort: ports.etcdClient, logLevel: "info",
    }));
    run(bin.m3coordinator, ["-f", coordinatorYaml]);
    const admin = new M3AdminClient(`http://${LOOPBACK}:${ports.coordinator}`);
    await Promise.all([etcdHealthy, until("coordinator", () => admin.isHealthy())]);
    phase("etcd+coordinator");
    await admin.initPlacement("m3aggregator", buildPlacementInitRequest({
      nodes: ports.nodes.map((p, i) => ({ id: instanceIdOf(i), endpoint: `${LOOPBACK}:${p.tcp}` })),
      rf: options.rf, numShards: options.numShards, isolationGroups: options.isolationGroups,
    }));
    const created = await admin.getPlacement("m3aggregator");
    const placement = (await admin.setPlacement("m3aggregator", withImmediateCutover(created.placement), created.version, true)).placement;
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

async function fixtureRun(): Promise<{ phases: Phases; ready: number; stop: number }> {
  const t0 = Date.now();
  const cluster = await M3AggregatorCluster.start({ nodes: NODES, rf: RF });
  const ready = Date.now() - t0;
  await cluster.stop();
  const { total: _total, ...phases } = cluster.startupTimings;
  return { phases: phases as Phases, ready, stop: cluster.stopTimeMs ?? NaN };
}

async function main(): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-bench-"));
  try {
    const bin = await extractBinaries(workDir);
    const fixture: Array<Awaited<ReturnType<typeof fixtureRun>>> = [];
    const bare: Array<Awaited<ReturnType<typeof bareRun>>> = [];
    // Warm-up of each (page cache, image layers), not counted.
    await fixtureRun();
    await bareRun(bin, workDir);
    for (let i = 0; i < RUNS; i++) {
      fixture.push(await fixtureRun());
      bare.push(await bareRun(bin, workDir));
    }
    const summarize = (runs: typeof fixture) => ({
      readyMs: { median: median(runs.map((r) => r.ready)), runs: runs.map((r) => r.ready) },
      stopMs: { median: median(runs.map((r) => r.stop)), runs: runs.map((r) => r.stop) },
      phasesMedianMs: Object.fromEntries(Object.keys(runs[0]!.phases).map((k) => [k, median(runs.map((r) => r.phases[k] ?? 0))])),
    });
    const result = {
      benchmark: "startup",
      nodes: NODES,
      rf: RF,
      runs: RUNS,
      machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      fixture: summarize(fixture),
      bareProcesses: summarize(bare),
      readyRatio: 0,
      goalRatio: 1.5,
    };
    result.readyRatio = Math.round((result.fixture.readyMs.median / result.bareProcesses.readyMs.median) * 100) / 100;

    const phaseNames = [...new Set([...Object.keys(result.fixture.phasesMedianMs), ...Object.keys(result.bareProcesses.phasesMedianMs)])];
    console.log(`startup, ${NODES} nodes rf ${RF}, median of ${RUNS} (ms)`);
    console.log(["", "fixture", "bare", "ratio"].map((s) => s.padStart(12)).join(""));
    const row = (name: string, a: number | undefined, b: number | undefined) =>
      console.log([name, String(a ?? "-"), String(b ?? "-"), a && b ? (a / b).toFixed(2) : "-"].map((s) => s.padStart(12)).join(""));
    for (const name of phaseNames) row(name, result.fixture.phasesMedianMs[name], result.bareProcesses.phasesMedianMs[name]);
    row("READY", result.fixture.readyMs.median, result.bareProcesses.readyMs.median);
    row("stop", result.fixture.stopMs.median, result.bareProcesses.stopMs.median);
    console.log(`goal: ready within ${result.goalRatio}x of bare processes: ${result.readyRatio <= result.goalRatio ? "met" : "NOT met"} (${result.readyRatio}x)`);
    console.log(JSON.stringify(result));
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
