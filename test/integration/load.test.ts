/**
 * The load harness against real clusters: runLoad on 2 nodes rf 2 for 10 s (every counter
 * increment must arrive exactly once), and `m3agg load --json` as a user runs it (its own
 * cluster, started and removed).
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { type StartedM3AggregatorCluster } from "../../src/cluster/started";
import { type LoadProgress, runLoad } from "../../src/load/run";
import { clusterContainers, uniqueClusterId } from "./helpers";

describe("runLoad", () => {
  // Started here, not file-wide: the CLI test below starts its own cluster, and 2 cores hold one at a time.
  const m3 = {} as { cluster: StartedM3AggregatorCluster };
  beforeAll(async () => {
    m3.cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, backend: "sink", clusterId: uniqueClusterId("load") });
  }, 210_000);
  afterAll(() => m3.cluster?.stop());

  test("10 s at 20,000 metrics/s, mixed types: lost 0, exact counter totals, every node added what it was sent", async () => {
    const progress: LoadProgress[] = [];
    const report = await runLoad(m3.cluster, {
      durationSeconds: 10, rate: 20_000, ids: 500, mix: { counter: 7, gauge: 1, timer: 1, timed: 1 }, connections: 2,
      settleTimeoutSeconds: 90, onProgress: (p) => progress.push(p),
    });
    expect(report.verified).toBe(true);
    expect(report.sent).toBeGreaterThan(150_000); // about 10 s × 20,000/s (the 2 cores are shared)
    expect(report.sent).toBeLessThanOrEqual(200_000 + 100);
    expect(report.sentByType.counter + report.sentByType.gauge + report.sentByType.timer + report.sentByType.timed).toBe(report.sent);
    expect(report.expectedCounterTotal).toBe(report.sentByType.counter);
    expect(report.observedCounterTotal).toBe(report.expectedCounterTotal);
    expect(report.lost).toBe(0);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    // Every type checked exactly: gauges, timers and timed metrics too, after the sentinel windows.
    expect(report.sentinel).toMatchObject({ seen: true });
    for (const type of ["counter", "gauge", "timer", "timed"] as const) {
      expect(report.checks![type].expected).toBeGreaterThan(0);
      expect(report.checks![type]).toMatchObject({ mismatches: 0, matched: report.checks![type].expected });
    }
    expect(report.delivery).toMatchObject({ lost: 0, pending: 0, dropped: 0 });
    // Independently of runLoad's own sum: the sink's counter datapoints of this run add up to what was sent.
    const counted = m3.cluster.getSink().datapoints().filter((p) => p.id.startsWith(`${report.idPrefix}.counter.`)).reduce((s, p) => s + p.value, 0);
    expect(counted).toBe(report.sentByType.counter);
    // Both replicas add every metric; nothing failed or was dropped.
    expect(report.aggregators).toHaveLength(2);
    expect(report.aggregators.reduce((s, a) => s + a.added, 0)).toBe(2 * (report.sent + report.sentinel!.ids)); // the sentinels too (counter and timed)
    expect(report.aggregators.every((a) => a.addErrors === 0 && a.dropped === 0 && a.decodeErrors === 0)).toBe(true);
    expect(report.aggregators.some((a) => a.flushLag !== null)).toBe(true); // the leader flushed
    expect(report.clientCpuSeconds).toBeGreaterThan(0);
    expect(report.aggregatorCpuSeconds).toBeGreaterThan(0);
    expect(progress.filter((p) => p.phase === "send").length).toBeGreaterThanOrEqual(8);
    expect(progress.some((p) => p.sink !== undefined && p.sink.counterTotal > 0)).toBe(true);
  }, 180_000);
});

describe("m3agg load --json", () => {
  test("starts its own 2x2 cluster, sends, verifies, reports every field, removes the cluster", () => {
    const main = path.resolve(__dirname, "../../src/cli/main.ts");
    const clusterId = uniqueClusterId("loadcli");
    const result = spawnSync(process.execPath, ["--import", "tsx", main, "load", "--nodes", "2", "--rf", "2", "--cluster-id", clusterId,
      "--duration", "3", "--rate", "3000", "--ids", "40", "--mix", "counter=3,gauge=1", "--json"], { encoding: "utf8", timeout: 240_000 });
    expect({ status: result.status, stderr: result.stderr.slice(-2000) }).toMatchObject({ status: 0 });
    expect(result.stderr).toMatch(/sending: sent [\d,]+, [\d,]+\/s; sink: /); // progress each second
    const report = JSON.parse(result.stdout.trim().split("\n").pop() as string);
    expect(Object.keys(report).sort()).toEqual([
      "aggregatorCpuSeconds", "aggregatorCpuSecondsUntilSettled", "aggregators", "checks", "clientCpuSeconds", "clusterId", "conflicts", "delivery", "duplicates",
      "expectedCounterTotal", "flushedBy", "idPrefix", "lost", "nodes", "observedCounterTotal", "ok", "options", "problems", "sendMs", "sendRatePerSec", "sent",
      "sentByType", "sentinel", "settleMs", "verified",
    ]);
    expect(report).toMatchObject({ clusterId, nodes: 2, verified: true, lost: 0, ok: true, options: { rate: 3000, durationSeconds: 3, ids: 40, mix: { counter: 3, gauge: 1 } } });
    expect(report.sent).toBeGreaterThan(5_000);
    expect(report.observedCounterTotal).toBe(report.expectedCounterTotal);
    expect(report.expectedCounterTotal).toBe(report.sentByType.counter);
    expect(typeof report.duplicates).toBe("number");
    expect(report.aggregators.map((a: { id: string }) => a.id)).toEqual(["m3aggregator01", "m3aggregator02"]);
    for (const a of report.aggregators) expect(Object.keys(a).sort()).toEqual(["addErrors", "added", "decodeErrors", "dropped", "flushLag", "id"]);
    return clusterContainers(clusterId).then((left) => expect(left).toEqual([])); // removed
  }, 300_000);
});
