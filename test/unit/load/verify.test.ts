/** The load's exact check against synthetic sink datapoints: each rule catches what it claims to. */
import type { AggregatedDatapoint } from "../../../src/sink/codec";
import { checkLoad, checksPass, LoadLedger } from "../../../src/load/verify";

const policy = { resolutionNanos: 10_000_000_000n, precisionNanos: 1_000_000_000n, retentionNanos: 172_800_000_000_000n, text: "10s:2d" };
const point = (id: string, windowEndMs: number, value: number): AggregatedDatapoint => ({ id, timeNanos: BigInt(windowEndMs) * 1_000_000n, value, storagePolicy: policy });
const T = 1_800_000_000_000; // a window start

function ledger(): LoadLedger {
  const l = new LoadLedger();
  l.counter("c", 1);
  l.counter("c", 1);
  l.counter("c", 1);
  l.gauge("g", 5, T + 1_000);
  l.gauge("g", 9, T + 2_000);
  l.gauge("g", 12, T + 11_000); // next window
  l.timer("t", [3, 1]);
  l.timer("t", [7]);
  l.timedValue("x", T + 500, 2);
  l.timedValue("x", T + 9_999, 3);
  l.timedValue("x", T + 10_000, 4);
  return l;
}

const good = (): AggregatedDatapoint[] => [
  point("c", T + 10_000, 2), point("c", T + 20_000, 1),
  point("g", T + 10_000, 9), point("g", T + 20_000, 12),
  point("t.count", T + 10_000, 3), point("t.sum", T + 10_000, 11), point("t.lower", T + 10_000, 1), point("t.upper", T + 10_000, 7),
  point("x", T + 10_000, 5), point("x", T + 20_000, 4),
];

describe("checkLoad", () => {
  test("exactly what was sent: every type matches", () => {
    const checks = checkLoad(ledger(), good());
    expect(checksPass(checks)).toBe(true);
    expect(checks.counter).toMatchObject({ expected: 1, matched: 1, expectedTotal: 3, observedTotal: 3 });
    expect(checks.timed).toMatchObject({ expected: 2, matched: 2, expectedTotal: 9, observedTotal: 9 });
  });

  test("an over-count (a window counted twice) and a lost increment are both caught", () => {
    const over = good().concat([point("c", T + 30_000, 1)]);
    expect(checkLoad(ledger(), over).counter.examples).toEqual(["c: expected 3, observed 4"]);
    const under = good().filter((p) => !(p.id === "c" && p.value === 1));
    expect(checkLoad(ledger(), under).counter.examples).toEqual(["c: expected 3, observed 2"]);
  });

  test("gauges: a value not last-sent, a decreasing value, a value before it was sent, a missing last window", () => {
    const wrongLast = good().map((p) => (p.id === "g" && p.value === 12 ? point("g", T + 20_000, 10) : p));
    expect(checkLoad(ledger(), wrongLast).gauge.examples[0]).toContain("last window holds 10, the last value sent was 12");
    const early = good().map((p) => (p.id === "g" && p.value === 9 ? point("g", T, 12) : p));
    expect(checkLoad(ledger(), early).gauge.examples[0]).toContain(`window ending ${T} holds 12, not a value sent for it before then`);
    const missing = good().filter((p) => p.id !== "g");
    expect(checkLoad(ledger(), missing).gauge.examples[0]).toContain("no window at all");
  });

  test("timers: count, sum, lower and upper each checked", () => {
    for (const [suffix, value] of [["count", 4], ["sum", 12], ["lower", 0], ["upper", 8]] as const) {
      const bad = good().map((p) => (p.id === `t.${suffix}` ? point(p.id, T + 10_000, value) : p));
      expect(checksPass(checkLoad(ledger(), bad))).toBe(false);
    }
  });

  test("timed: the sum in the window each value names; a shifted value and an extra window are caught", () => {
    const shifted = good().map((p) => (p.id === "x" && p.value === 4 ? point("x", T + 30_000, 4) : p));
    expect(checkLoad(ledger(), shifted).timed.examples).toEqual([
      `x window ending ${T + 20_000}: expected 4, observed nothing`,
      `x window ending ${T + 30_000}: 4 observed in a window nothing was sent for`,
    ]);
  });
});
