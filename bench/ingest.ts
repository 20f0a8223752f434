/**
 * Ingest benchmark:
 * 1. encoder throughput (metrics/s on one core) for counters, gauges, batch timers;
 * 2. end to end: counter increments into a 2-node rf-2 cluster as fast as the client
 *    can, until the sink has every increment; client CPU (this process) and
 *    aggregator CPU (the containers' cgroup counters) over the run;
 * 3. the same with m3's own Go client (v1.5.0, bench/go/m3client, built from the
 *    module proxy), in the same cluster, so the two clients compare directly.
 *
 *   npm run bench:ingest                  # BENCH_E2E_METRICS=500000 by default
 *
 * Prints a table, then one JSON document on the last line.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { M3AggregatorCluster, type StartedM3AggregatorCluster } from "../src/cluster";
import { dockerClient } from "../src/docker";
import { M3IngestClient } from "../src/ingest/client";
import { encodeFrame, type Metric } from "../src/ingest/encoder";

const E2E_METRICS = Number(process.env.BENCH_E2E_METRICS ?? 500_000);
const E2E_IDS = 1_000;

function encoderThroughput(make: (i: number) => Metric, n = 200_000): number {
  for (let i = 0; i < 10_000; i++) encodeFrame(make(i)); // warm-up (JIT)
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += encodeFrame(make(i)).length;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (bytes === 0) throw new Error("encoded nothing");
  return Math.round(n / seconds);
}

async function containerCpuSeconds(ids: string[]): Promise<number> {
  const client = await dockerClient();
  let total = 0;
  for (const id of ids) {
    const stats = (await client.container.dockerode.getContainer(id).stats({ stream: false })) as { cpu_stats: { cpu_usage: { total_usage: number } } };
    total += stats.cpu_stats.cpu_usage.total_usage / 1e9;
  }
  return total;
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

/** m3's Go client into the same cluster: its own send time and CPU (bash `times`), then the sink total. */
async function goClientRun(cluster: StartedM3AggregatorCluster, binary: string) {
  const nodeIds = cluster.nodes.map((n) => n.getId());
  const agg0 = await containerCpuSeconds(nodeIds);
  const t0 = Date.now();
  const run = spawnSync("bash", ["-c", `"$0" "$1" "$2" "$3"; status=$?; times; exit $status`, binary, `127.0.0.1:${cluster.ports.etcdClient}`, String(E2E_METRICS), String(E2E_IDS)], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`m3client failed: ${run.stderr}`);
  const lines = run.stdout.split("\n");
  const resultLine = lines.find((l) => l.startsWith('{"metrics"'));
  if (resultLine === undefined) throw new Error(`m3client printed no result: ${run.stdout}`);
  const result = JSON.parse(resultLine) as { sendMs: number };
  // `times` prints the shell's times, then its children's user and system time, e.g. "0m1.234s 0m0.321s".
  const timesLines = lines.filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim()));
  const childTimes = (timesLines[timesLines.length - 1] ?? "").match(/(\d+)m([\d.]+)s/g) ?? [];
  const cpu = childTimes.reduce((s, t) => { const [, m, sec] = /(\d+)m([\d.]+)s/.exec(t) as unknown as [string, string, string]; return s + Number(m) * 60 + Number(sec); }, 0);
  const agg1 = await containerCpuSeconds(nodeIds);
  const ids = Array.from({ length: E2E_IDS }, (_, i) => `gobench.${i}`);
  const total = () => ids.reduce((s, id) => s + cluster.sink.sum(id), 0);
  await cluster.sink.waitFor(() => (total() >= E2E_METRICS ? true : undefined), { timeoutMs: 120_000, what: "all Go client increments" });
  return {
    sendMs: result.sendMs,
    sendRatePerSec: Math.round(E2E_METRICS / (result.sendMs / 1000)),
    aggregatedAndFlushedMs: Date.now() - t0,
    clientCpuSeconds: Math.round(cpu * 100) / 100,
    aggregatorsCpuSecondsDuringRun: Math.round((agg1 - agg0) * 100) / 100,
    sinkTotal: total(),
  };
}

async function endToEnd() {
  const goBinary = buildGoClient();
  const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, backend: "sink" });
  try {
    const ids = Array.from({ length: E2E_IDS }, (_, i) => `bench.${i}`);
    const client = await M3IngestClient.connect(cluster, { connectionsPerEndpoint: 2 });
    const nodeIds = cluster.nodes.map((n) => n.getId());
    const cpu0 = process.cpuUsage();
    const agg0 = await containerCpuSeconds(nodeIds);
    const t0 = Date.now();
    for (let i = 0; i < E2E_METRICS; i++) await client.counter(ids[i % E2E_IDS] as string, 1);
    await client.close();
    const sendMs = Date.now() - t0;
    const clientCpu = process.cpuUsage(cpu0);
    const agg1 = await containerCpuSeconds(nodeIds);
    const total = () => ids.reduce((s, id) => s + cluster.sink.sum(id), 0);
    await cluster.sink.waitFor(() => (total() >= E2E_METRICS ? true : undefined), { timeoutMs: 120_000, what: "all increments" });
    const deliveredMs = Date.now() - t0;
    if (total() !== E2E_METRICS) throw new Error(`sink total ${total()} != ${E2E_METRICS}`);
    const sinkStats = cluster.sink.stats();
    const goClient = goBinary === undefined ? { skipped: "Go client did not build" } : await goClientRun(cluster, goBinary);
    return {
      goClient,
      metrics: E2E_METRICS,
      sendMs,
      sendRatePerSec: Math.round(E2E_METRICS / (sendMs / 1000)),
      // Each metric is written to both replicas of its shard set.
      framesPerSec: Math.round((2 * E2E_METRICS) / (sendMs / 1000)),
      aggregatedAndFlushedMs: deliveredMs,
      clientCpuSeconds: Math.round(((clientCpu.user + clientCpu.system) / 1e6) * 100) / 100,
      aggregatorsCpuSecondsDuringSend: Math.round((agg1 - agg0) * 100) / 100,
      sinkStats,
    };
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  const encoder = {
    counterPerSec: encoderThroughput((i) => ({ type: "counter", id: `bench.counter.${i % 1000}`, value: 1 })),
    gaugePerSec: encoderThroughput((i) => ({ type: "gauge", id: `bench.gauge.${i % 1000}`, value: i * 0.5 })),
    timer10PerSec: encoderThroughput((i) => ({ type: "timer", id: `bench.timer.${i % 1000}`, values: [1, 2, 3, 4, 5, 6, 7, 8, 9, i] })),
    counterWithPolicyPerSec: encoderThroughput((i) => ({ type: "counter", id: `bench.counter.${i % 1000}`, value: 1, storagePolicies: ["10s:2d"], aggregationTypes: ["sum"] })),
  };
  const e2e = await endToEnd();
  console.log("encoder (one core, metrics/s)");
  for (const [name, rate] of Object.entries(encoder)) console.log(`  ${name.padEnd(26)} ${rate.toLocaleString("en-US")}`);
  console.log(`end to end, 2 nodes rf 2, ${e2e.metrics.toLocaleString("en-US")} counter increments over ${E2E_IDS} ids`);
  console.log(`  client send rate           ${e2e.sendRatePerSec.toLocaleString("en-US")} metrics/s (${e2e.framesPerSec.toLocaleString("en-US")} frames/s to both replicas)`);
  console.log(`  all flushed to the sink in ${e2e.aggregatedAndFlushedMs} ms`);
  console.log(`  CPU during the send        client ${e2e.clientCpuSeconds} s, aggregators ${e2e.aggregatorsCpuSecondsDuringSend} s (of ${(e2e.sendMs / 1000).toFixed(1)} s wall)`);
  if ("sendRatePerSec" in e2e.goClient) {
    const go = e2e.goClient;
    console.log(`m3's Go client (v1.5.0), same cluster, same load`);
    console.log(`  client send rate           ${go.sendRatePerSec.toLocaleString("en-US")} metrics/s; flushed in ${go.aggregatedAndFlushedMs} ms`);
    console.log(`  CPU                        client ${go.clientCpuSeconds} s, aggregators ${go.aggregatorsCpuSecondsDuringRun} s`);
    console.log(`  TS / Go send rate          ${(e2e.sendRatePerSec / go.sendRatePerSec).toFixed(2)}`);
  } else {
    console.log(`m3's Go client: ${e2e.goClient.skipped}`);
  }
  console.log(JSON.stringify({ benchmark: "ingest", encoder, endToEnd: e2e }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
