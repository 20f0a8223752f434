/**
 * What a load sent, and the exact check of the sink's datapoints against it (pure: no I/O).
 *
 * - counters: the sum per id over all windows equals the increments sent (the server stamps
 *   untimed metrics on arrival, so the client cannot know each increment's window);
 * - gauges: per id, each window's value is a value sent for that id, not sent after the window
 *   ended, values increase window by window (the load sends increasing values), and the last
 *   window holds the last value sent ("last value per window", as far as send times tell);
 * - timers: per id, count, sum, lower and upper over all windows equal what was sent;
 * - timed metrics: the sum per (id, window they name) equals what was sent, no window missing, none extra.
 * The sink keeps one value per (id, window, policy) and counts re-deliveries as duplicates and
 * different values as conflicts; the load's report carries both.
 */
import type { AggregatedDatapoint } from "../sink/codec";

/** The default storage policy's window (10s:2d) and the timed metrics' policy. */
export const WINDOW_MS = 10_000;

export interface TimerExpectation { count: number; sum: number; lower: number; upper: number }

/** Everything a load sent, by type. */
export class LoadLedger {
  readonly counters = new Map<string, number>();
  /** Gauge id → its last value, and per send window (start ms) the first and last value sent in it. */
  readonly gauges = new Map<string, { last: number; byWindow: Map<number, [number, number]> }>();
  readonly timers = new Map<string, TimerExpectation>();
  /** Timed id → window end (ms) → sum. */
  readonly timed = new Map<string, Map<number, number>>();

  counter(id: string, value: number): void {
    this.counters.set(id, (this.counters.get(id) ?? 0) + value);
  }

  /** A gauge value sent at (no later than) `nowMs`. Values per id must increase. */
  gauge(id: string, value: number, nowMs: number): void {
    let g = this.gauges.get(id);
    if (g === undefined) {
      g = { last: value, byWindow: new Map() };
      this.gauges.set(id, g);
    }
    g.last = value;
    const w = Math.floor(nowMs / WINDOW_MS) * WINDOW_MS;
    const range = g.byWindow.get(w);
    if (range === undefined) g.byWindow.set(w, [value, value]);
    else range[1] = value;
  }

  timer(id: string, values: readonly number[]): void {
    let t = this.timers.get(id);
    if (t === undefined) {
      t = { count: 0, sum: 0, lower: Infinity, upper: -Infinity };
      this.timers.set(id, t);
    }
    for (const v of values) {
      t.count++;
      t.sum += v;
      if (v < t.lower) t.lower = v;
      if (v > t.upper) t.upper = v;
    }
  }

  timedValue(id: string, timeMs: number, value: number): void {
    let windows = this.timed.get(id);
    if (windows === undefined) {
      windows = new Map();
      this.timed.set(id, windows);
    }
    const end = (Math.floor(timeMs / WINDOW_MS) + 1) * WINDOW_MS;
    windows.set(end, (windows.get(end) ?? 0) + value);
  }
}

/** One type's check: expected vs observed, and what did not match (the first few, and how many). */
export interface TypeCheck {
  /** Ids (timed: (id, window) pairs) expected. */
  expected: number;
  /** Of those, how many matched exactly. */
  matched: number;
  /** Sum of expected values (counters: increments; timers: values; timed: value sum; gauges: windows seen). */
  expectedTotal: number;
  observedTotal: number;
  mismatches: number;
  examples: string[];
  /** Timed only: mismatched (id, window) pairs per window end (ms), e.g. a whole window lost at a failover. */
  byWindow?: Record<string, number>;
}

export interface LoadChecks {
  counter: TypeCheck;
  gauge: TypeCheck;
  timer: TypeCheck;
  timed: TypeCheck;
}

const EXAMPLES = 5;

function newCheck(): TypeCheck {
  return { expected: 0, matched: 0, expectedTotal: 0, observedTotal: 0, mismatches: 0, examples: [] };
}

function miss(check: TypeCheck, text: string): void {
  check.mismatches++;
  if (check.examples.length < EXAMPLES) check.examples.push(text);
}

/** Checks the sink's datapoints (only ids the ledger knows are looked at) against the ledger. */
export function checkLoad(ledger: LoadLedger, points: readonly AggregatedDatapoint[]): LoadChecks {
  const byId = new Map<string, AggregatedDatapoint[]>();
  for (const p of points) {
    let list = byId.get(p.id);
    if (list === undefined) {
      list = [];
      byId.set(p.id, list);
    }
    list.push(p);
  }
  const windowMs = (p: AggregatedDatapoint) => Number(p.timeNanos / 1_000_000n);

  const counter = newCheck();
  for (const [id, expected] of ledger.counters) {
    const observed = (byId.get(id) ?? []).reduce((s, p) => s + p.value, 0);
    counter.expected++;
    counter.expectedTotal += expected;
    counter.observedTotal += observed;
    if (observed === expected) counter.matched++;
    else miss(counter, `${id}: expected ${expected}, observed ${observed}`);
  }

  const gauge = newCheck();
  for (const [id, g] of ledger.gauges) {
    gauge.expected++;
    const seen = [...(byId.get(id) ?? [])].sort((a, b) => windowMs(a) - windowMs(b));
    gauge.expectedTotal += g.byWindow.size;
    gauge.observedTotal += seen.length;
    const problems: string[] = [];
    let previous = -Infinity;
    for (const p of seen) {
      const end = windowMs(p);
      // The value must have been sent in a window that started before this one ended.
      let sentBefore = false;
      for (const [start, [first, last]] of g.byWindow) {
        if (p.value >= first && p.value <= last && start < end) sentBefore = true;
      }
      if (!sentBefore) problems.push(`window ending ${end} holds ${p.value}, not a value sent for it before then`);
      if (!(p.value > previous)) problems.push(`window ending ${end} holds ${p.value} after ${previous}`);
      previous = p.value;
    }
    const last = seen[seen.length - 1];
    if (last === undefined) problems.push("no window at all");
    else if (last.value !== g.last) problems.push(`last window holds ${last.value}, the last value sent was ${g.last}`);
    if (problems.length === 0) gauge.matched++;
    else miss(gauge, `${id}: ${problems.join("; ")}`);
  }

  const timer = newCheck();
  for (const [id, t] of ledger.timers) {
    timer.expected++;
    timer.expectedTotal += t.count;
    const get = (suffix: string) => byId.get(`${id}.${suffix}`) ?? [];
    const count = get("count").reduce((s, p) => s + p.value, 0);
    const sum = get("sum").reduce((s, p) => s + p.value, 0);
    const lower = Math.min(...get("lower").map((p) => p.value));
    const upper = Math.max(...get("upper").map((p) => p.value));
    timer.observedTotal += count;
    const observed = { count, sum, lower, upper };
    if (count === t.count && sum === t.sum && lower === t.lower && upper === t.upper) timer.matched++;
    else miss(timer, `${id}: expected ${JSON.stringify(t)}, observed ${JSON.stringify(observed)}`);
  }

  const timed = newCheck();
  for (const [id, windows] of ledger.timed) {
    const observed = new Map<number, number>();
    for (const p of byId.get(id) ?? []) observed.set(windowMs(p), (observed.get(windowMs(p)) ?? 0) + p.value);
    for (const [end, value] of windows) {
      timed.expected++;
      timed.expectedTotal += value;
      const got = observed.get(end);
      timed.observedTotal += got ?? 0;
      if (got === value) timed.matched++;
      else {
        miss(timed, `${id} window ending ${end}: expected ${value}, observed ${got ?? "nothing"}`);
        timed.byWindow = timed.byWindow ?? {};
        timed.byWindow[end] = (timed.byWindow[end] ?? 0) + 1;
      }
    }
    for (const [end, value] of observed) {
      if (!windows.has(end)) {
        timed.observedTotal += value;
        miss(timed, `${id} window ending ${end}: ${value} observed in a window nothing was sent for`);
        timed.byWindow = timed.byWindow ?? {};
        timed.byWindow[end] = (timed.byWindow[end] ?? 0) + 1;
      }
    }
  }
  return { counter, gauge, timer, timed };
}

/** Whether every check matched. */
export function checksPass(checks: LoadChecks): boolean {
  return Object.values(checks).every((c) => c.mismatches === 0 && c.matched === c.expected);
}
