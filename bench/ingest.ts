/**
 * Ingest benchmark:
 * 1. encoder throughput on one core (metrics/s): counters, gauges, batch timers, timed;
 * 2. end to end, in ONE cluster (2 nodes, rf 2, sink backend), the same load twice:
 *    our client and m3's own Go client (bench/go/m3client, v1.5.0, built from the module
 *    proxy), each in its own process, as fast as it can: send rate, the client's CPU per
 *    metric (its own rusage from the first write to close), the aggregators' CPU (their
 *    cgroup counters), and the sink's exact total. Prints the ours/Go CPU ratio.
 *
 *   npm run bench:ingest                  # BENCH_E2E_METRICS=500000, BENCH_E2E_IDS=1000
 *
 * Prints a table, then one JSON document on the last line.
 */
import { execFileSync, spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import type { Placement } from "../src/m3/types";
import { M3AggregatorCluster } from "../src/cluster/start";
import { type StartedM3AggregatorCluster } from "../src/cluster/started";
import { containerCpuSeconds } from "../src/docker/client";
import { M3IngestClient } from "../src/ingest/client";
import { encodeFrame, IngestEncoder } from "../src/ingest/encoder";
import type { M3Version } from "../src/model/versions";

const E2E_METRICS = Number(process.env.BENCH_E2E_METRICS ?? 500_000);
const E2E_IDS = Number(process.env.BENCH_E2E_IDS ?? 1_000);

/** Metrics/s of `encode` on one core: warm-up for the JIT, then a timed run. */
function rate(encode: (i: number) => void, n = 2_000_000): number {
  for (let i = 0; i < 200_000; i++) encode(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) encode(i);
  return Math.round(n / (Number(process.hrtime.bigint() - t0) / 1e9));
}

function encoderThroughput() {
  const ids = Array.from({ length: 1000 }, (_, i) => `bench.metric.${i}`);
  const encoder = new IngestEncoder();
  // Reset when a batch is full, as a connection does when it hands a batch to the socket.
  const batch = (encode: (i: number) => void) => (i: number) => {
    if (encoder.length > 64 * 1024) encoder.reset();
    encode(i);
  };
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  return {
    counterPerSec: rate(batch((i) => encoder.counter(ids[i % 1000] as string, 1))),
    counterAppendObjectPerSec: rate(batch((i) => encoder.append({ type: "counter", id: ids[i % 1000] as string, value: 1 }))),
    counterWithPolicyPerSec: rate(batch((i) => encoder.counter(ids[i % 1000] as string, 1, { storagePolicies: ["10s:2d"], aggregationTypes: ["sum"] }))),
    gaugePerSec: rate(batch((i) => encoder.gauge(ids[i % 1000] as string, i * 0.5))),
    timer10PerSec: rate(batch((i) => encoder.timer(ids[i % 1000] as string, values))),
    timedPerSec: rate(batch((i) => encoder.timed({ metricType: "counter", id: ids[i % 1000] as string, timeNanos: 1_700_000_000_000_000_000n, value: 1, storagePolicy: "10s:2d" }))),
    encodeFrameCopyPerSec: rate((i) => encodeFrame({ type: "counter", id: ids[i % 1000] as string, value: 1 }), 1_000_000),
  };
}


/** Builds bench/go/m3client (m3's Go client) once; undefined when Go is missing or the build fails. */
function buildGoClient(): string | undefined {
  const out = path.join(os.tmpdir(), "m3agg-bench-m3client");
  try {
    execFileSync("go", ["build", "-o", out, "."], { cwd: path.join(__dirname, "go", "m3client"), stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=readonly" } });
    return out;
  } catch {
    return undefined;
  }
}

interface ClientResult { sendMs: number; sendCpuSeconds: number; processCpuSeconds: number }

/** Runs a client process; its last stdout line is its JSON result. */
function runProcess(command: string, args: string[]): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      if (code !== 0 || !line.startsWith("{")) return reject(new Error(`${command} exited ${code}: ${out}`));
      resolve(JSON.parse(line) as ClientResult);
    });
  });
}

/** One client run against the cluster: its own result, the aggregators' CPU, and the sink's exact total. */
async function measured(cluster: StartedM3AggregatorCluster, prefix: string, run: () => Promise<ClientResult>) {
  const nodeIds = cluster.nodes.map((n) => n.getId());
  const agg0 = await containerCpuSeconds(nodeIds);
  const t0 = Date.now();
  const result = await run();
  const agg1 = await containerCpuSeconds(nodeIds);
  const ids = Array.from({ length: E2E_IDS }, (_, i) => `${prefix}.${i}`);
  const total = () => ids.reduce((s, id) => s + cluster.getSink().sum(id), 0);
  await cluster.getSink().waitFor(() => (total() >= E2E_METRICS ? true : undefined), { timeoutMs: 180_000, what: `all ${prefix} increments` });
  if (total() !== E2E_METRICS) throw new Error(`${prefix}: sink total ${total()} != ${E2E_METRICS}`);
  const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
  return {
    sendMs: result.sendMs,
    sendRatePerSec: Math.round(E2E_METRICS / (result.sendMs / 1000)),
    clientCpuSeconds: round(result.sendCpuSeconds, 3),
    clientCpuMicrosPerMetric: round((result.sendCpuSeconds * 1e6) / E2E_METRICS, 3),
    clientProcessCpuSeconds: round(result.processCpuSeconds, 3),
    aggregatorsCpuSecondsDuringSend: round(agg1 - agg0),
    aggregatedAndFlushedMs: Date.now() - t0,
    sinkTotal: total(),
  };
}

/** The child process side: our client, one load, its own CPU. argv: client <placement json> <metrics> <ids> <m3Version> */
async function clientChild(placementJson: string, metrics: number, idCount: number, m3Version: M3Version): Promise<void> {
  const placement = JSON.parse(placementJson) as Placement;
  const ids = Array.from({ length: idCount }, (_, i) => `tsbench.${i}`);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const client = await M3IngestClient.connect(placement, { m3Version });
  for (let i = 0; i < metrics; i++) {
    const wait = client.counter(ids[i % idCount] as string, 1);
    if (wait !== undefined) await wait;
  }
  await client.close();
  const sendMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const total = process.cpuUsage();
  console.log(JSON.stringify({ metrics, sendMs, sendCpuSeconds: (cpu.user + cpu.system) / 1e6, processCpuSeconds: (total.user + total.system) / 1e6 }));
}

async function endToEnd() {
  const goBinary = buildGoClient();
  const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, backend: "sink" });
  try {
    const placement = await cluster.placement();
    const m3Version = ((cluster as { m3Version?: M3Version }).m3Version ?? "v1.5.0") as M3Version;
    const ours = await measured(cluster, "tsbench", () =>
      runProcess(process.execPath, ["--import", "tsx", __filename, "client", JSON.stringify(placement), String(E2E_METRICS), String(E2E_IDS), m3Version]));
    const go = goBinary === undefined
      ? { skipped: "Go client did not build" as const }
      : await measured(cluster, "gobench", () => runProcess(goBinary, [`127.0.0.1:${cluster.ports.etcdClient}`, String(E2E_METRICS), String(E2E_IDS)]));
    return { metrics: E2E_METRICS, ids: E2E_IDS, m3Version, ours, go, sinkStats: cluster.getSink().stats() };
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "client") {
    const [placementJson, metrics, ids, version] = process.argv.slice(3) as [string, string, string, M3Version];
    return clientChild(placementJson, Number(metrics), Number(ids), version);
  }
  const encoder = encoderThroughput();
  console.log("encoder (one core, metrics/s)");
  for (const [name, value] of Object.entries(encoder)) console.log(`  ${name.padEnd(28)} ${value.toLocaleString("en-US")}`);
  console.log(`  counters: ${(encoder.counterPerSec / 1e6).toFixed(1)} M/s on one core (goal ≥ 2 M/s: ${encoder.counterPerSec >= 2e6 ? "met" : "NOT met"})`);
  const e2e = await endToEnd();
  const n = (x: number) => x.toLocaleString("en-US");
  console.log(`end to end: 2 nodes rf 2 (m3 ${e2e.m3Version}), ${n(e2e.metrics)} counter increments over ${n(e2e.ids)} ids, each client in its own process`);
  const rows: Array<[string, (r: typeof e2e.ours) => string]> = [
    ["send rate (metrics/s)", (r) => n(r.sendRatePerSec)],
    ["client CPU, send (s)", (r) => String(r.clientCpuSeconds)],
    ["client CPU per metric (µs)", (r) => String(r.clientCpuMicrosPerMetric)],
    ["client CPU, whole process (s)", (r) => String(r.clientProcessCpuSeconds)],
    ["aggregators CPU, send (s)", (r) => String(r.aggregatorsCpuSecondsDuringSend)],
    ["sent → all in the sink (ms)", (r) => String(r.aggregatedAndFlushedMs)],
    ["sink total (exact)", (r) => n(r.sinkTotal)],
  ];
  console.log(`  ${"".padEnd(32)} ${"ours (TS)".padStart(14)} ${"m3 Go client".padStart(14)}`);
  for (const [label, get] of rows) console.log(`  ${label.padEnd(32)} ${get(e2e.ours).padStart(14)} ${("skipped" in e2e.go ? "-" : get(e2e.go)).padStart(14)}`);
  let ratio: { cpuPerMetric: number; sendRate: number } | undefined;
  if (!("skipped" in e2e.go)) {
    ratio = {
      cpuPerMetric: Math.round((e2e.ours.clientCpuMicrosPerMetric / e2e.go.clientCpuMicrosPerMetric) * 100) / 100,
      sendRate: Math.round((e2e.ours.sendRatePerSec / e2e.go.sendRatePerSec) * 100) / 100,
    };
    console.log(`  ours / Go: CPU per metric ${ratio.cpuPerMetric}× (goal ≤ 1.3×), send rate ${ratio.sendRate}×`);
  } else {
    console.log(`  m3's Go client: ${e2e.go.skipped}`);
  }
  console.log(JSON.stringify({ benchmark: "ingest", encoder, endToEnd: e2e, ratio }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
