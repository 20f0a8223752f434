/**
 * Failover and flush benchmark: the fixture's tuned election and flush intervals against m3's shipped
 * ones (the "old configs"), side by side in one run, 2 nodes rf 2, election TTL 2 s:
 *  - kill: SIGKILL the leader → the other replica reports "leader" on /status (TTL-bound);
 *  - resign: POST /resign on the leader → the other replica reports "leader";
 *  - flush lag: a counter sent at a random point of a 10 s window → its aggregate reaches the sink;
 *    lag = arrival − end of its window. m3 offsets each node's flush times by when its first metric
 *    of the resolution arrived (flush_mgr.go computeFlushIntervalOffset, jitter off), so the lag is
 *    mostly the leading node's offset (0–10 s), not the intervals.
 *
 *   npm run bench:failover            # 5 rounds per config
 *   BENCH_RUNS=3 npm run bench:failover
 *
 * Prints a table, then one JSON document on the last line.
 */
import * as os from "node:os";
import { M3AggregatorCluster } from "../src/cluster/start";
import type { M3AggregatorClusterOptions } from "../src/model/options";
import { M3IngestClient } from "../src/ingest/client";
import { OLD_INTERVALS } from "./old-intervals";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TTL = 2;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
};

async function leaderOther(cluster: Awaited<ReturnType<typeof M3AggregatorCluster.start>>, not: string): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const other = cluster.nodes.find((n) => n.id !== not)!;
    try {
      if ((await other.api.status(1_000)).electionState === "leader") return Date.now() - t0;
    } catch {
      // not answering yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function measure(configOverrides: M3AggregatorClusterOptions["configOverrides"]): Promise<{ killMs: number[]; resignMs: number[]; flushLagMs: number[] }> {
  const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, electionTtlSeconds: TTL, backend: "sink", tls: false, configOverrides });
  const out = { killMs: [] as number[], resignMs: [] as number[], flushLagMs: [] as number[] };
  try {
    const sink = cluster.getSink();
    for (let i = 0; i < RUNS; i++) {
      // Flush lag: a counter at a random point of the window, its aggregate's arrival after the window's end.
      await new Promise((r) => setTimeout(r, Math.random() * 3_000));
      const id = `bench.failover.${Date.now()}.${i}`;
      const client = await M3IngestClient.connect(cluster);
      await client.counter(id, 1);
      await client.flush();
      await client.close();
      const point = await sink.waitFor((points) => points.find((p) => p.id === id), { timeoutMs: 40_000, what: id, intervalMs: 5 });
      out.flushLagMs.push(Date.now() - Number(point.timeNanos / 1_000_000n));

      const leader = await cluster.waitForLeader(1);
      const resigned = cluster.node(leader).api.resign();
      const resignMs = await leaderOther(cluster, leader);
      await resigned;
      out.resignMs.push(resignMs);
      await cluster.waitForReady();

      const leader2 = await cluster.waitForLeader(1);
      await cluster.node(leader2).kill();
      out.killMs.push(await leaderOther(cluster, leader2));
      await cluster.node(leader2).start();
      await cluster.waitForReady();
    }
  } finally {
    await cluster.stop();
  }
  return out;
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const results: Record<string, { killMs: number[]; resignMs: number[]; flushLagMs: number[] }> = {};
  results.tuned = await measure(undefined);
  results["m3 shipped (old)"] = await measure(OLD_INTERVALS);
  const names = Object.keys(results);
  const width = 20;
  console.log(`failover and flush, 2 nodes rf 2, election TTL ${TTL} s, median of ${RUNS} (ms)`);
  console.log(["", ...names].map((s) => s.padStart(width)).join(""));
  for (const key of ["killMs", "resignMs", "flushLagMs"] as const) {
    console.log([key, ...names.map((n) => `${median(results[n]![key])} (${Math.min(...results[n]![key])}–${Math.max(...results[n]![key])})`)].map((s) => s.padStart(width)).join(""));
  }
  const loadAfter = os.loadavg().map((l) => Math.round(l * 100) / 100);
  console.log(`load average (1/5/15 min) before ${loadBefore.join(" ")}, after ${loadAfter.join(" ")} on ${os.cpus().length} CPUs`);
  console.log(JSON.stringify({ benchmark: "failover", runs: RUNS, electionTtlSeconds: TTL, results, loadAverage: { before: loadBefore, after: loadAfter } }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
