/**
 * A chaos timeline on a real 2-node rf-2 faults cluster: runLoad with timed steps (kill the leader
 * for 8 s, latency and a bandwidth limit on ingest links), exact totals at the sink, a timeline
 * with every step's outcome and the leader change, and the HTML report opened in a real headless
 * Chromium (Debian's package): every chart drew its points; a screenshot is kept under .m3agg/.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { runLoad } from "../../src/load/run";
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { uniqueClusterId } from "./helpers";

const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2, electionTtlSeconds: 5, backend: "sink", faults: true, clusterId: uniqueClusterId("chaos") });
const OUT = path.join(process.cwd(), ".m3agg", "chaos");
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--disable-quic", "--virtual-time-budget=10000", "--window-size=1280,1500"];

function chromium(): string {
  for (const candidate of ["chromium", "chromium-browser"]) {
    try {
      execFileSync("which", [candidate], { stdio: "pipe" });
      return candidate;
    } catch { /* next */ }
  }
  throw new Error("the report test needs Debian's chromium: apt-get install -y chromium (.ci/run installs it)");
}

describe("chaos timeline", () => {
  test("runLoad with chaos steps: exact totals, every step's outcome, the leader change, and a report every chart of which drew its data", async () => {
    const cluster = m3.cluster;
    const leaderBefore = await cluster.waitForLeader(1);
    const reportFile = path.join(OUT, "report.html");
    fs.rmSync(OUT, { recursive: true, force: true });
    const report = await runLoad(cluster, {
      durationSeconds: 30, rate: 2000, ids: 200, report: reportFile,
      chaos: [
        { at: "5s", do: "kill-leader", shardSet: 1, for: "8s" },
        { at: "16s", do: "latency", node: 1, link: "ingest", ms: 50, jitterMs: 10, for: "4s" },
        { at: "22s", do: "bandwidth", node: 2, link: "ingest", kbPerSecond: 512, for: "4s" },
      ],
    });
    // Exact: what was sent (counted by the harness from its own loop) arrived once, m3's re-sends as duplicates.
    expect(report.lost).toBe(0);
    expect(report.conflicts).toBe(0);
    expect(report.ok).toBe(true);

    const t = report.timeline!;
    expect(t.steps.map((s) => [s.do, s.ok, s.undo?.ok])).toEqual([["kill-leader", true, true], ["latency", true, true], ["bandwidth", true, true]]);
    expect(t.steps[0]!.detail).toBe(`killed ${leaderBefore} (leader of shard set 1)`);
    expect(t.steps[0]!.startedMs).toBeGreaterThanOrEqual(5000);
    expect(t.steps[0]!.undo!.startedMs).toBeGreaterThanOrEqual(13_000);
    // The follower took over after the kill: a polled change of shard set 1's leader away from the killed node.
    const after = t.leaderChanges.filter((c) => c.shardSet === 1 && c.tMs > t.steps[0]!.startedMs);
    expect(after.some((c) => c.leader !== null && c.leader !== leaderBefore)).toBe(true);
    expect(t.placementVersions.length).toBeGreaterThanOrEqual(1);
    expect(t.series.tMs.length).toBeGreaterThanOrEqual(25);
    expect(Math.max(...t.series.sentPerSec)).toBeGreaterThan(1000);
    // The series end at the run's totals (the last sample is taken after the sink settled).
    expect(t.series.sentTotal.at(-1)).toBe(report.sent);
    expect(t.series.observedTotal.at(-1)).toBe(report.expectedCounterTotal);
    for (const node of cluster.nodes) expect(t.series.cpu[node.id]!.filter((x) => x !== null).length).toBeGreaterThan(10);

    // The page, in a real browser: each chart reports the points it drew.
    const browser = chromium();
    const dom = execFileSync(browser, [...CHROMIUM_FLAGS, "--dump-dom", `file://${reportFile}`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    const plottedText = /<pre id="plotted">([^<]*)<\/pre>/.exec(dom)?.[1];
    expect(plottedText).toBeDefined();
    const plotted = JSON.parse(plottedText!.replace(/&quot;/g, '"').replace(/&amp;/g, "&")) as { charts: Array<{ title: string; series: Array<{ label: string; points: number }> }> };
    expect(plotted.charts.map((c) => c.title)).toEqual([
      "Send rate (metrics/s)", "Aggregated at the sink (counter increments/s, per flush)", "CPU per node (cores)", "Leader per shard set (node number; gap = none or several)",
    ]);
    const samples = t.series.tMs.length;
    const expectedPoints: Record<string, number> = {
      "sent/s": samples, "observed/s": t.series.observedPerSec.filter((x) => x !== null).length,
      ...Object.fromEntries(Object.entries(t.series.cpu).map(([id, xs]) => [id, xs.filter((x) => x !== null).length])),
      ...Object.fromEntries(Object.entries(t.series.leaders).map(([id, xs]) => [`shard set ${id}`, xs.filter((x) => x !== null).length])),
    };
    for (const chart of plotted.charts) {
      for (const s of chart.series) {
        expect([chart.title, s.label, s.points]).toEqual([chart.title, s.label, expectedPoints[s.label]]);
        expect(s.points).toBeGreaterThan(0);
      }
    }
    const screenshot = path.join(OUT, "report.png");
    execFileSync(browser, [...CHROMIUM_FLAGS, `--screenshot=${screenshot}`, `file://${reportFile}`], { stdio: "pipe", timeout: 60_000 });
    expect(fs.statSync(screenshot).size).toBeGreaterThan(20_000);
  }, 240_000);
});
