/**
 * What `faults: true` costs, side by side in one run:
 * 1. start time (2 nodes, rf 2, sink backend) without and with faults, alternating, median of BENCH_STARTS (3);
 * 2. maximum sustained rate: runLoad rate "max" for BENCH_SECONDS (10) on each cluster, exact check on;
 *    sent/s, the aggregators' CPU, and with faults the Toxiproxy container's CPU (its share of the cluster's).
 *
 *   npm run bench:faults
 *
 * Prints a table, then one JSON document on the last line.
 */
import { M3AggregatorCluster } from "../src/cluster/start";
import type { StartedM3AggregatorCluster } from "../src/cluster/started";
import { containerCpuSeconds } from "../src/docker/client";
import { runLoad } from "../src/load/run";

const STARTS = Number(process.env.BENCH_STARTS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function start(faults: boolean, i: number): Promise<StartedM3AggregatorCluster> {
  return M3AggregatorCluster.start({ nodes: 2, rf: 2, backend: "sink", faults, clusterId: `bench-faults-${faults ? "on" : "off"}-${process.pid}-${i}` });
}

async function main(): Promise<void> {
  const startMs: Record<"off" | "on", number[]> = { off: [], on: [] };
  for (let i = 0; i < STARTS; i++) {
    for (const faults of [false, true]) {
      const t0 = Date.now();
      const cluster = await start(faults, i);
      startMs[faults ? "on" : "off"].push(Date.now() - t0);
      await cluster.stop();
    }
  }
  const rate: Record<string, unknown> = {};
  for (const faults of [false, true]) {
    const cluster = await start(faults, 99);
    try {
      const proxyId = cluster.toxiproxy?.getId();
      const proxy0 = proxyId === undefined ? null : await containerCpuSeconds([proxyId]);
      const report = await runLoad(cluster, { rate: "max", durationSeconds: SECONDS, ids: 1000 });
      const proxy1 = proxyId === undefined ? null : await containerCpuSeconds([proxyId]);
      const proxyCpu = proxy0 === null || proxy1 === null ? null : Math.round((proxy1 - proxy0) * 100) / 100;
      const aggregators = report.aggregatorCpuSecondsUntilSettled;
      rate[faults ? "on" : "off"] = {
        sendRatePerSec: report.sendRatePerSec, sent: report.sent, lost: report.lost, duplicates: report.duplicates, ok: report.ok,
        aggregatorCpuSeconds: aggregators, proxyCpuSeconds: proxyCpu,
        proxyShareOfClusterCpu: proxyCpu === null || aggregators === null ? null : Math.round((proxyCpu / (proxyCpu + aggregators)) * 1000) / 1000,
        proxyCpuPer100kMetrics: proxyCpu === null ? null : Math.round((proxyCpu / report.sent) * 100_000 * 1000) / 1000,
      };
    } finally {
      await cluster.stop();
    }
  }
  const result = {
    startMs: { off: { median: median(startMs.off), all: startMs.off }, on: { median: median(startMs.on), all: startMs.on } },
    maxRate: rate,
    seconds: SECONDS,
  };
  const r = rate as Record<"off" | "on", { sendRatePerSec: number; ok: boolean; aggregatorCpuSeconds: number | null; proxyCpuSeconds: number | null; proxyShareOfClusterCpu: number | null }>;
  console.log([
    "                       faults: false      faults: true",
    `start (median of ${STARTS})     ${String(result.startMs.off.median).padEnd(8)} ms      ${result.startMs.on.median} ms`,
    `max rate (${SECONDS} s)        ${String(r.off.sendRatePerSec).padEnd(8)} /s      ${r.on.sendRatePerSec} /s`,
    `exact at the sink       ${String(r.off.ok).padEnd(8)}         ${r.on.ok}`,
    `aggregators CPU         ${String(r.off.aggregatorCpuSeconds).padEnd(8)} s       ${r.on.aggregatorCpuSeconds} s`,
    `Toxiproxy CPU           -                 ${r.on.proxyCpuSeconds} s (${r.on.proxyShareOfClusterCpu === null ? "-" : `${Math.round(r.on.proxyShareOfClusterCpu * 1000) / 10} %`} of the cluster's)`,
  ].join("\n"));
  console.log(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
