/**
 * Topology benchmark: add, remove and replace on a 4-node rf-2 cluster under a steady load
 * (runLoad: counters, 5,000/s over 1,000 ids by default, exact totals checked in the sink at the end).
 * For each change: time to complete and its phases (container start, admin call, cutover wait,
 * cutoff and flush, finalize, election, removal), and the load's send rate in the 10 s before, during,
 * and in the 10 s after.
 *
 *   npm run bench:topology
 *
 * Env: TOPOLOGY_RATE (5000), TOPOLOGY_IDS (1000), M3AGG_M3_VERSION (v1.6.0).
 * Prints a table, then one JSON document on the last line. Exit code 1 when a change failed or the load lost data.
 */
import { M3AggregatorCluster } from "../src/cluster/start";
import type { TopologyChange } from "../src/cluster/topology";
import { runLoad } from "../src/load/run";

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}=${process.env[name]}: must be a whole number > 0`);
  return value;
};

interface Row {
  change: string;
  totalMs: number;
  phasesMs: TopologyChange["phasesMs"];
  rateBefore: number;
  rateDuring: number;
  rateAfter: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const rate = env("TOPOLOGY_RATE", 5_000);
  const ids = env("TOPOLOGY_IDS", 1_000);
  const cluster = await M3AggregatorCluster.start({ nodes: 4, rf: 2, backend: "sink" });
  const samples: Array<{ at: number; rate: number }> = [];
  const changes: Array<{ name: string; start: number; end: number; change: TopologyChange }> = [];
  let failure: unknown;
  try {
    // Bounded: the load runs 200 s whatever happens; the three changes take about 10 + 40 s each.
    const loadRun = runLoad(cluster, {
      rate, ids, durationSeconds: 200, settleTimeoutSeconds: 90,
      // T sits on a 10 s boundary: keep writes off it, so copies never land on both sides (README "Guarantees and limits").
      boundaryQuietMs: 100,
      onProgress: (p) => {
        if (p.phase === "send") samples.push({ at: Date.now(), rate: p.ratePerSec });
      },
    });
    const timed = async (name: string, work: () => Promise<TopologyChange>) => {
      await sleep(10_000);
      const start = Date.now();
      const change = await work();
      changes.push({ name, start, end: Date.now(), change });
      process.stderr.write(`${name}: ${change.totalMs} ms\n`);
    };
    try {
      await timed("add 2 (4 -> 6)", async () => (await cluster.addNodes(2)).change);
      const added = changes[0]?.change.added ?? [];
      await timed("remove 2 (6 -> 4)", () => cluster.removeNodes(added));
      await timed("replace leader of set 1", async () => (await cluster.replaceNode(await cluster.waitForLeader(1))).change);
      await sleep(10_000);
    } catch (error) {
      failure = error;
    }
    const report = await loadRun;
    const mean = (from: number, to: number) => {
      const inRange = samples.filter((s) => s.at >= from && s.at <= to);
      return inRange.length === 0 ? 0 : Math.round(inRange.reduce((n, s) => n + s.rate, 0) / inRange.length);
    };
    const rows: Row[] = changes.map(({ name, start, end, change }) => ({
      change: name, totalMs: change.totalMs, phasesMs: change.phasesMs,
      rateBefore: mean(start - 10_000, start), rateDuring: mean(start, end), rateAfter: mean(end, end + 10_000),
    }));
    const phases = Object.keys(rows[0]?.phasesMs ?? {});
    process.stdout.write(`${["change".padEnd(26), "total s", ...phases.map((p) => p.padStart(14)), "rate before", "during", "after"].join(" ")}\n`);
    for (const r of rows) {
      process.stdout.write(`${[r.change.padEnd(26), (r.totalMs / 1000).toFixed(1).padStart(7), ...phases.map((p) => ((r.phasesMs as Record<string, number>)[p] as number / 1000).toFixed(1).padStart(14)),
        String(r.rateBefore).padStart(11), String(r.rateDuring).padStart(6), String(r.rateAfter).padStart(5)].join(" ")}\n`);
    }
    process.stdout.write(`load: sent ${report.sent}, lost ${report.lost}, duplicates ${report.duplicates}, conflicts ${report.conflicts}, ok ${report.ok}${report.problems.length > 0 ? `: ${report.problems.join("; ")}` : ""}\n`);
    process.stdout.write(`${JSON.stringify({
      bench: "topology", m3Version: cluster.getM3Version(), rate, ids, rows,
      load: { sent: report.sent, lost: report.lost, duplicates: report.duplicates, conflicts: report.conflicts, ok: report.ok, problems: report.problems },
      error: failure === undefined ? null : String((failure as Error).message ?? failure),
    })}\n`);
    if (failure !== undefined || !report.ok) process.exitCode = 1;
  } finally {
    await cluster.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:topology: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
