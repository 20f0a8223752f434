/** Chaos steps are checked before a run: each bad step is refused naming its number, the step and the rule. */
import { ChaosStepError, parseDuration, planChaos, type ChaosContext } from "../../../src/load/chaos";
import { renderLoadReportHtml } from "../../../src/load/report-html";

const CONTEXT: ChaosContext = { nodeIds: ["m3aggregator01", "m3aggregator02", "m3aggregator03", "m3aggregator04"], shardSets: 2, rf: 2, faults: true, durationMs: 30_000 };

function refusal(steps: unknown, context: ChaosContext = CONTEXT): string {
  try {
    planChaos(steps, context);
  } catch (error) {
    expect(error).toBeInstanceOf(ChaosStepError);
    return (error as Error).message;
  }
  throw new Error("accepted");
}

describe("planChaos", () => {
  test("durations: 5s, 500ms, 1.5m; nothing else", () => {
    expect(["5s", "500ms", "1.5m", "0s"].map(parseDuration)).toEqual([5000, 500, 90_000, 0]);
    expect(["5", "5 sec", "-1s", 5, "1h"].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  test("the issue's examples are accepted, sorted by time, node numbers 1-based", () => {
    const planned = planChaos([
      { at: "20s", do: "restart", node: 3 },
      { at: "5s", do: "kill-leader", shardSet: 1 },
      { at: "10s", do: "cut", node: "m3aggregator01", link: "etcd", for: "8s" },
    ], CONTEXT);
    expect(planned.map((p) => [p.index, p.action, p.atMs, p.forMs, p.node, p.shardSet, p.link])).toEqual([
      [1, "kill-leader", 5000, undefined, undefined, 1, undefined],
      [2, "cut", 10_000, 8000, "m3aggregator01", undefined, "etcd"],
      [0, "restart", 20_000, undefined, "m3aggregator03", undefined, undefined],
    ]);
  });

  test.each([
    [[{ at: "5s", do: "explode" }], `chaos step 1 {"at":"5s","do":"explode"}: "do" must be one of kill-leader`],
    [[{ at: "5", do: "kill", node: 1 }], `chaos step 1 {"at":"5","do":"kill","node":1}: "at" must be a duration like "5s"`],
    [[{ at: "1s", do: "kill", node: 1 }, { at: "40s", do: "kill", node: 1 }], `chaos step 2 {"at":"40s","do":"kill","node":1}: "at" 40s is after the end of the send (30 s)`],
    [[{ at: "25s", do: "cut", node: 1, link: "etcd", for: "8s" }], "ends at 33 s, after the end of the send (30 s): the run must end healed"],
    [[{ at: "5s", do: "restart", node: 5 }], `"node" 5 is not a node number (1..4, 1 = m3aggregator01)`],
    [[{ at: "5s", do: "restart", node: "m3aggregator09" }], `"node" must be a node number 1..4 or an instance id`],
    [[{ at: "5s", do: "kill-leader", shardSet: 3 }], `"shardSet" must be a shard set id 1..2`],
    [[{ at: "5s", do: "cut", node: 1, link: "disk" }], `"link" must be one of etcd, ingest, flush, all`],
    [[{ at: "5s", do: "cut", node: 1, link: "etcd", ms: 3 }], `"ms" is not a field of "cut" (fields: at, do, node, link, for)`],
    [[{ at: "5s", do: "latency", node: 1, link: "ingest" }], `"ms" must be whole milliseconds 0..600000`],
    [[{ at: "5s", do: "bandwidth", node: 1, link: "ingest", kbPerSecond: 0 }], `"kbPerSecond" must be a whole number of KB/s, at least 1`],
    [[{ at: "5s", do: "add-nodes" }], "needs a cluster without faults: true"],
    [[{ at: "5s", do: "restart" }], `"node" must be a node number`],
    ["kill", "chaos must be an array of steps"],
  ])("refused: %j", (steps, message) => {
    expect(refusal(steps)).toContain(message);
  });

  test("add-nodes adds whole shard sets, on a cluster without faults", () => {
    const plain = { ...CONTEXT, faults: false };
    expect(planChaos([{ at: "5s", do: "add-nodes" }], plain)).toMatchObject([{ action: "add-nodes", atMs: 5_000 }]);
    expect(planChaos([{ at: "5s", do: "add-nodes", count: 4 }], plain)).toHaveLength(1);
    expect(refusal([{ at: "5s", do: "add-nodes", count: 3 }], plain)).toContain(`"count" must be a whole multiple of rf (2)`);
    expect(refusal([{ at: "5s", do: "add-nodes", count: 0 }], plain)).toContain(`"count" must be a whole multiple of rf (2)`);
    expect(refusal([{ at: "5s", do: "add-nodes", for: "5s" }], plain)).toContain(`"for" is not a field of "add-nodes"`);
  });

  test("network steps need faults: true", () => {
    expect(refusal([{ at: "1s", do: "cut", node: 1, link: "etcd" }], { ...CONTEXT, faults: false }))
      .toContain(`"cut" needs a cluster started with faults: true`);
    expect(planChaos([{ at: "1s", do: "kill", node: 1, for: "2s" }], { ...CONTEXT, faults: false })).toHaveLength(1);
  });
});

describe("the HTML report", () => {
  const report = {
    clusterId: "c1", nodes: 2, options: { m3Version: "v1.6.0" }, sent: 3000, sendMs: 3000, sendRatePerSec: 1000, verified: true, ok: true,
    expectedCounterTotal: 3000, observedCounterTotal: 3000, lost: 0, duplicates: 4, conflicts: 0, settleMs: 12_000, aggregatorCpuSeconds: 1.5,
    aggregators: [{ id: "m3aggregator01" }, { id: "m3aggregator02" }],
    timeline: {
      startedAtMs: 0,
      steps: [{ index: 0, do: "cut" as const, step: { at: "1s", do: "cut" as const, node: 1, link: "etcd" as const, for: "1s" }, atMs: 1000, startedMs: 1010, endedMs: 1020, ok: true, detail: "cut m3aggregator01 etcd <b>", undo: { startedMs: 2000, endedMs: 2010, ok: true, detail: "healed" } }],
      leaderChanges: [{ tMs: 1000, shardSet: 1, leader: "m3aggregator01" }],
      placementVersions: [{ tMs: 1000, version: 3 }],
      series: { tMs: [1000, 2000, 3000], sentTotal: [1000, 2000, 3000], observedTotal: [0, 0, 3000], sentPerSec: [1000, 1000, 1000], observedPerSec: [0, 0, 3000], cpu: { m3aggregator01: [0.1, 0.2, null], m3aggregator02: [0.1, 0.1, 0.1] }, leaders: { "1": ["m3aggregator01", "m3aggregator01", "m3aggregator02"] } },
    },
  };
  const html = renderLoadReportHtml(report);

  test("self-contained: the chart library is inlined, nothing is fetched", () => {
    expect(html).toContain("uPlot");
    // The only address is the library's banner comment (its home page), which nothing loads.
    const code = html.replace("/*! https://github.com/leeoniya/uPlot (v1.6.32) */", "");
    expect(code).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img|url\(|fetch\(|XMLHttpRequest|import\(|https?:\/\/(?!www\.w3\.org)/i);
  });

  test("verdict and totals on top, steps and leader changes below; text is escaped", () => {
    expect(html.indexOf("OK: every counter increment arrived exactly once")).toBeLessThan(html.indexOf("Chaos steps"));
    expect(html).toContain("cut m3aggregator01 etcd &#60;b&#62;");
    expect(html).toContain("v3 at 1.0 s");
  });
});
