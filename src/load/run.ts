/**
 * runLoad: a bounded load against a running cluster, then (with the sink
 * backend) an exact check that every counter increment was aggregated and
 * flushed exactly once, plus what the client, the aggregators and the sink
 * spent and saw. The library behind `m3agg load`.
 *
 * @example
 * const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, backend: "sink" });
 * const report = await runLoad(cluster, { durationSeconds: 10, rate: 50_000 });
 * expect(report.ok).toBe(true);
 */
import { containerCpuSeconds } from "../docker/client";
import { type DeliveryReport, M3IngestClient, type PlacementSource } from "../ingest/client";
import { poll } from "../util/poll";
import { checkLoad, checksPass, type LoadChecks, LoadLedger, WINDOW_MS } from "./verify";
import type { M3Version } from "../model/versions";
import type { PrometheusMetrics } from "../m3/prometheus";
import type { AggregatedDatapoint } from "../sink/codec";
import { type ChaosStep, formatTimeline, type LoadTimeline, prepareTimeline } from "./chaos";
import { writeLoadReportHtml } from "./report-html";

/** The metric kinds a load mixes. */
export const LOAD_METRIC_TYPES = ["counter", "gauge", "timer", "timed"] as const;
export type LoadMetricType = (typeof LOAD_METRIC_TYPES)[number];

export interface LoadOptions {
  /** Metrics per second, or "max" (as fast as the cluster takes them; the default). */
  rate?: number | "max";
  /** How long to send, in seconds. Default 10 unless `count` is set. */
  durationSeconds?: number;
  /** How many metrics to send (stops at whichever of duration and count comes first). */
  count?: number;
  /** Distinct metric ids (cardinality). Default 1000. Each id keeps one type. */
  ids?: number;
  /** Relative weights of the metric types, e.g. { counter: 7, gauge: 1, timer: 1, timed: 1 }. Default { counter: 1 }. */
  mix?: Partial<Record<LoadMetricType, number>>;
  /** Connections per aggregator endpoint. Default 1. */
  connections?: number;
  /** Check every type exactly in the sink. Default: when the cluster has a sink. */
  verify?: boolean;
  /** How long to wait for the sentinels and every check after the send. Default 120 s. */
  settleTimeoutSeconds?: number;
  /** Prefix of every id (default `load.<random>`), so runs on one cluster do not mix. */
  idPrefix?: string;
  /** Wire version (default: the cluster's, else v1.6.0). */
  m3Version?: M3Version;
  /** Called about once a second while sending and while waiting for the sink. */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Timed steps run against the cluster during the send (needs durationSeconds), e.g.
   * `[{ at: "5s", do: "kill-leader", shardSet: 1 }, { at: "10s", do: "cut", node: 1, link: "etcd", for: "8s" }]`.
   * The report then carries a `timeline`. See load/chaos.ts and README "Chaos timelines".
   */
  chaos?: ChaosStep[];
  /** Write the report as one self-contained HTML file (charts, chaos steps, verdict) to this path. */
  report?: string;
  /**
   * Send nothing within this many ms either side of a 10 s window boundary (default 0: send evenly).
   * m3 windows an untimed metric by its arrival time at each replica, so one that reaches the leader
   * and the follower on either side of a boundary is counted 0 or 2 times after a failover or a shard
   * move (README "Delivery semantics"). A quiet margin keeps a load exact through those; the schedule
   * catches up right after each quiet span, so the rate stays the same.
   */
  boundaryQuietMs?: number;
}

export interface LoadProgress {
  phase: "send" | "settle";
  elapsedMs: number;
  sent: number;
  /** Metrics sent in the last interval, per second. */
  ratePerSec: number;
  /** What the sink has seen (undefined without a sink). */
  sink?: { datapoints: number; counterTotal: number; expectedCounterTotal: number };
}

/** What one aggregator says about itself over the run (deltas of its own counters). */
export interface AggregatorSelfReport {
  id: string;
  /** Metrics added (untimed + timed + forwarded + passthrough successes). */
  added: number;
  /** Adds that failed (every reason: shard not owned, too late, rate limited, …). */
  addErrors: number;
  /** Values the entry pool dropped, plus frames the raw TCP server could not decode. */
  dropped: number;
  decodeErrors: number;
  /** Leader flush lag over the run: how many flushes and their mean lag (seconds); null without flushes. */
  flushLag: { flushes: number; meanSeconds: number } | null;
  /** Set when the node's /metrics could not be read. */
  error?: string;
}

export interface LoadReport {
  clusterId: string;
  nodes: number;
  idPrefix: string;
  options: { rate: number | "max"; durationSeconds: number | null; count: number | null; ids: number; mix: Partial<Record<LoadMetricType, number>>; connections: number; m3Version: M3Version };
  /** Metrics sent (each to every replica of its shard). */
  sent: number;
  sentByType: Record<LoadMetricType, number>;
  sendMs: number;
  sendRatePerSec: number;
  /** Whether the counter totals were checked in the sink. */
  verified: boolean;
  /** Sum of every counter increment sent. */
  expectedCounterTotal: number;
  /** Sum of the counters' aggregated values the sink received (null when not verified). */
  observedCounterTotal: number | null;
  /** expected − observed (must be 0; null when not verified). */
  lost: number | null;
  /** Datapoints the sink received more than once (m3 re-sends unacked messages), and ones that differed. */
  duplicates: number | null;
  conflicts: number | null;
  /** Every type checked exactly (null when not verified): expected vs observed, what did not match. */
  checks: LoadChecks | null;
  /** The sentinel counters (one per shard) sent in the window after the last metric; seen = all reached the sink. */
  sentinel: { ids: number; windowEndMs: number | null; seen: boolean } | null;
  /** From the end of the send until the sentinels and every check matched (null when not verified or never). */
  settleMs: number | null;
  /** This process's CPU over the send (includes the in-process sink when the cluster was started here). */
  clientCpuSeconds: number;
  /** The aggregator containers' CPU (cgroup counters via docker stats) over the send, and until settled. */
  aggregatorCpuSeconds: number | null;
  aggregatorCpuSecondsUntilSettled: number | null;
  aggregators: AggregatorSelfReport[];
  /** The ingest client's delivery report (frames written / lost per endpoint; raw TCP: the sink is the oracle). */
  delivery: DeliveryReport | null;
  /**
   * Which aggregator flushed this run's datapoints, per window end (ms): instance id → datapoints (a window
   * flushed by two instances, e.g. re-flushed after a failover or across a cutover, lists both). Null
   * without a sink. Instance ids come from the sink's producer lookup (src/sink/producer.ts).
   */
  flushedBy: Record<string, Record<string, number>> | null;
  /** Why ok is false (empty when ok). */
  problems: string[];
  /**
   * True when verified, something was sent, every sentinel arrived, every type's check matched exactly,
   * the sink saw no conflict, and no node counted an add or decode error.
   */
  ok: boolean;
  /** With `chaos` or `report`: the steps and their outcomes, leader changes, placement versions, per-second series. */
  timeline?: LoadTimeline;
}

/** What runLoad needs of a cluster: a started cluster fits, on any target (loopback, swarm). */
export interface LoadTarget {
  getId(): string;
  placement: Exclude<PlacementSource, { instances: unknown }>["placement"];
  getM3Version?(): M3Version;
  readonly tls?: Exclude<PlacementSource, { instances: unknown }>["tls"];
  /** The dial map (placement endpoint → where this process reaches it); the load's client dials through it. */
  dialAddress?(endpoint: string): string;
  /**
   * The nodes: each one's own counters (`metrics()`), and its container id on this process's Docker
   * engine (`getId()`) when it has one there: the aggregators' CPU is reported only when every node has.
   */
  readonly nodes: ReadonlyArray<{ readonly id: string; getId?(): string; metrics(): Promise<PrometheusMetrics> }>;
  /** The in-process sink (throws when the cluster has none). */
  getSink(): { datapoints(): AggregatedDatapoint[]; stats(): { duplicates: number; conflicts: number }; flushedBy?(point: AggregatedDatapoint): string[] };
}

/** A bad load option: names the option, the value and the rule. */
export class InvalidLoadOptionError extends Error {
  override readonly name = "InvalidLoadOptionError";
  constructor(readonly option: string, readonly value: unknown, readonly rule: string) {
    super(`invalid load option ${option}=${JSON.stringify(value)}: ${rule}`);
  }
}

interface Resolved {
  rate: number | "max";
  durationMs: number;
  count: number;
  ids: number;
  mix: Partial<Record<LoadMetricType, number>>;
  pattern: LoadMetricType[];
  connections: number;
  settleTimeoutMs: number;
  boundaryQuietMs: number;
}

const positiveInt = (option: string, value: unknown, max: number): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) throw new InvalidLoadOptionError(option, value, `must be a whole number in 1..${max}`);
  return value;
};

/** Validates the options (before anything is sent). */
export function resolveLoadOptions(options: LoadOptions): Resolved {
  const rate = options.rate ?? "max";
  if (rate !== "max" && (typeof rate !== "number" || !Number.isFinite(rate) || rate <= 0)) throw new InvalidLoadOptionError("rate", rate, "must be a positive number of metrics per second, or \"max\"");
  if (options.durationSeconds !== undefined && (typeof options.durationSeconds !== "number" || !(options.durationSeconds > 0) || options.durationSeconds > 86_400)) {
    throw new InvalidLoadOptionError("durationSeconds", options.durationSeconds, "must be a number of seconds in (0, 86400]");
  }
  const count = options.count === undefined ? Infinity : positiveInt("count", options.count, Number.MAX_SAFE_INTEGER);
  const durationMs = options.durationSeconds !== undefined ? options.durationSeconds * 1000 : options.count !== undefined ? Infinity : 10_000;
  const ids = positiveInt("ids", options.ids ?? 1000, 10_000_000);
  const connections = positiveInt("connections", options.connections ?? 1, 64);
  const mix = options.mix ?? { counter: 1 };
  const weights: Array<[LoadMetricType, number]> = [];
  for (const [type, weight] of Object.entries(mix)) {
    if (!(LOAD_METRIC_TYPES as readonly string[]).includes(type)) throw new InvalidLoadOptionError("mix", mix, `${type} is not one of ${LOAD_METRIC_TYPES.join(", ")}`);
    if (typeof weight !== "number" || !Number.isInteger(weight) || weight < 0 || weight > 1000) throw new InvalidLoadOptionError("mix", mix, `the weight of ${type} must be a whole number in 0..1000`);
    if (weight > 0) weights.push([type as LoadMetricType, weight]);
  }
  if (weights.length === 0) throw new InvalidLoadOptionError("mix", mix, "needs at least one type with a weight > 0");
  // Interleaved: id k gets pattern[k % pattern.length], so every type is spread over the ids.
  const pattern: LoadMetricType[] = [];
  const total = weights.reduce((s, [, w]) => s + w, 0);
  const given = new Map<LoadMetricType, number>();
  for (let i = 0; i < total; i++) {
    let best = weights[0] as [LoadMetricType, number];
    let bestLag = -Infinity;
    for (const [type, w] of weights) {
      const lag = ((i + 1) * w) / total - (given.get(type) ?? 0);
      if (lag > bestLag) [best, bestLag] = [[type, w], lag];
    }
    pattern.push(best[0]);
    given.set(best[0], (given.get(best[0]) ?? 0) + 1);
  }
  const settleTimeoutMs = (options.settleTimeoutSeconds ?? 120) * 1000;
  if (!(settleTimeoutMs > 0)) throw new InvalidLoadOptionError("settleTimeoutSeconds", options.settleTimeoutSeconds, "must be a positive number of seconds");
  const boundaryQuietMs = options.boundaryQuietMs ?? 0;
  if (typeof boundaryQuietMs !== "number" || !Number.isInteger(boundaryQuietMs) || boundaryQuietMs < 0 || boundaryQuietMs > WINDOW_MS / 4) {
    throw new InvalidLoadOptionError("boundaryQuietMs", options.boundaryQuietMs, `must be a whole number of ms in 0..${WINDOW_MS / 4}`);
  }
  return { rate, durationMs, count, ids, mix: Object.fromEntries(weights), pattern, connections, settleTimeoutMs, boundaryQuietMs };
}

/** The nodes' CPU seconds so far, or null when unknown (no containers, or the engine's stats failed). */
async function nodesCpuSeconds(containerIds: string[]): Promise<number | null> {
  if (containerIds.length === 0) return null;
  return containerCpuSeconds(containerIds).catch(() => null);
}

interface SelfCounters { added: number; addErrors: number; dropped: number; decodeErrors: number; lagSum: number; lagCount: number }

const M = "m3aggregator_aggregator_";
const NO_COUNTS: SelfCounters = { added: 0, addErrors: 0, dropped: 0, decodeErrors: 0, lagSum: 0, lagCount: 0 };

async function selfCounters(node: LoadTarget["nodes"][number]): Promise<SelfCounters | string> {
  try {
    const m = await node.metrics();
    const added = ["addUntimed", "addTimed", "addForwarded", "addPassthrough"].reduce((s, k) => s + m.sum(`${M}${k}_success`), 0);
    const addErrors = ["addUntimed", "addTimed", "addForwarded", "addPassthrough"].reduce((s, k) => s + m.sum(`${M}${k}_errors`), 0);
    const decodeErrors = m.sum("m3aggregator_rawtcp_server_decode_errors");
    const dropped = m.sum(`${M}entry_pool_entry_dropped_values`) + decodeErrors;
    return { added, addErrors, dropped, decodeErrors, lagSum: m.sum(`${M}flush_manager_bucket_flush_lag_sum`), lagCount: m.sum(`${M}flush_manager_bucket_flush_lag_count`) };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function selfReport(id: string, before: SelfCounters | string, after: SelfCounters | string): AggregatorSelfReport {
  if (typeof before === "string" || typeof after === "string") {
    return { id, added: 0, addErrors: 0, dropped: 0, decodeErrors: 0, flushLag: null, error: typeof before === "string" ? before : (after as string) };
  }
  const flushes = after.lagCount - before.lagCount;
  return {
    id,
    added: after.added - before.added,
    addErrors: after.addErrors - before.addErrors,
    dropped: after.dropped - before.dropped,
    decodeErrors: after.decodeErrors - before.decodeErrors,
    flushLag: flushes > 0 ? { flushes, meanSeconds: Math.round(((after.lagSum - before.lagSum) / flushes) * 1000) / 1000 } : null,
  };
}

function hasSink(cluster: LoadTarget): boolean {
  try {
    return cluster.getSink() !== undefined;
  } catch {
    return false;
  }
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Everything one run carries from phase to phase. */
interface LoadRun {
  cluster: LoadTarget;
  o: Resolved;
  options: LoadOptions;
  verify: boolean;
  prefix: string;
  ids: string[];
  kinds: LoadMetricType[];
  client: M3IngestClient;
  ledger: LoadLedger;
  containerIds: string[];
  /** Each node's own counters before the send, by instance id (a node added during the run has none: it counts from 0). */
  selfBefore: Map<string, SelfCounters | string>;
  aggCpu0: number | null;
  sentByType: Record<LoadMetricType, number>;
  sent: number;
  phase: LoadProgress["phase"];
  start: number;
  sendMs: number;
  clientCpuSeconds: number;
  aggCpuSend: number | null;
  sentinelIds: string[];
  sentinelWindowEndMs: number | null;
  delivery: DeliveryReport | null;
  /** With `chaos` or `report`: the prepared timeline (steps checked before anything is sent). */
  timeline: ReturnType<typeof prepareTimeline> | undefined;
}

/** Phase 0: validate, name the ids, connect, read the nodes' counters. */
async function prepare(cluster: LoadTarget, options: LoadOptions): Promise<LoadRun> {
  const o = resolveLoadOptions(options);
  const verify = options.verify ?? hasSink(cluster);
  if (verify && !hasSink(cluster)) throw new InvalidLoadOptionError("verify", true, `cluster ${cluster.getId()} has no sink in this process (start it with backend "sink", here)`);
  const prefix = options.idPrefix ?? `load.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  // Chaos steps are checked before anything is sent.
  const timeline = options.chaos !== undefined || options.report !== undefined ? prepareTimeline(cluster, options.chaos, o.durationMs) : undefined;
  const client = await M3IngestClient.connect(cluster, {
    connectionsPerEndpoint: o.connections,
    ...(options.m3Version === undefined ? {} : { m3Version: options.m3Version }),
  });
  // Containers of this process's engine only; nodes elsewhere (another engine of a swarm) have no getId().
  const containerIds = cluster.nodes.every((n) => n.getId !== undefined) ? cluster.nodes.map((n) => n.getId?.() as string) : [];
  const selfBefore = new Map(await Promise.all(cluster.nodes.map(async (n) => [n.id, await selfCounters(n)] as const)));
  return {
    cluster, o, options, verify, prefix, client, containerIds, selfBefore,
    ids: Array.from({ length: o.ids }, (_, k) => `${prefix}.${o.pattern[k % o.pattern.length]}.${k}`),
    kinds: Array.from({ length: o.ids }, (_, k) => o.pattern[k % o.pattern.length] as LoadMetricType),
    ledger: new LoadLedger(),
    aggCpu0: await nodesCpuSeconds(containerIds),
    sentByType: { counter: 0, gauge: 0, timer: 0, timed: 0 },
    sent: 0, phase: "send", start: Date.now(), sendMs: 0, clientCpuSeconds: 0, aggCpuSend: null,
    sentinelIds: [], sentinelWindowEndMs: null, delivery: null, timeline,
  };
}

/** True within `quietMs` of a window boundary (either side). */
export function nearWindowBoundary(nowMs: number, quietMs: number): boolean {
  const into = nowMs % WINDOW_MS;
  return quietMs > 0 && (into < quietMs || WINDOW_MS - into <= quietMs);
}

/** Phase 1: the load itself, at the rate asked for; every metric recorded in the ledger. */
async function send(run: LoadRun): Promise<void> {
  const { o, client, ledger, ids, kinds } = run;
  let nowMs = run.start; // refreshed each batch: never later than the true send time
  const cpu0 = process.cpuUsage();
  const sendOne = (): Promise<void> | undefined => {
    const k = run.sent % o.ids;
    const id = ids[k] as string;
    const kind = kinds[k] as LoadMetricType;
    run.sent++;
    run.sentByType[kind]++;
    switch (kind) {
      case "counter":
        ledger.counter(id, 1);
        return client.counter(id, 1);
      case "gauge": {
        const value = run.sent; // increasing per id: the check can tell which value each window kept
        ledger.gauge(id, value, nowMs);
        return client.gauge(id, value);
      }
      case "timer": {
        const value = (run.sent % 100) + 1;
        ledger.timer(id, [value]);
        return client.timer(id, [value]);
      }
      default: {
        const timeMs = Date.now();
        ledger.timedValue(id, timeMs, 1);
        return client.timed({ metricType: "counter", id, timeNanos: BigInt(timeMs) * 1_000_000n, value: 1, storagePolicy: "10s:2d", aggregationTypes: ["sum"] });
      }
    }
  };
  const deadline = run.start + o.durationMs;
  while (run.sent < o.count && Date.now() < deadline) {
    nowMs = Date.now();
    if (nearWindowBoundary(nowMs, o.boundaryQuietMs)) {
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
      continue;
    }
    const due = o.rate === "max" ? Math.min(o.count, run.sent + 2048) : Math.min(o.count, Math.floor(((nowMs - run.start) * o.rate) / 1000));
    while (run.sent < due) {
      const wait = sendOne();
      if (wait !== undefined) await wait;
    }
    // Timers, progress, the sink (max rate); the next tick of the schedule (fixed rate).
    await new Promise<void>((resolve) => (o.rate === "max" ? setImmediate(resolve) : setTimeout(resolve, 2)));
  }
  await client.flush();
  run.sendMs = Date.now() - run.start;
  const cpu = process.cpuUsage(cpu0);
  run.clientCpuSeconds = round((cpu.user + cpu.system) / 1e6);
  const aggCpu1 = await nodesCpuSeconds(run.containerIds);
  run.aggCpuSend = run.aggCpu0 === null || aggCpu1 === null ? null : round(aggCpu1 - run.aggCpu0, 2);
}

/**
 * Phase 2: sentinels. Once the window the last metric fell in has ended (plus a margin), one counter per
 * shard: every shard set and every m3msg connection index gets one. A leader flushes windows in time
 * order, so once every sentinel is in the sink, every earlier window was flushed: an over-count (a
 * window counted twice) can no longer hide behind "not flushed yet". Then the client closes.
 */
async function sentinels(run: LoadRun): Promise<void> {
  const { client } = run;
  if (run.verify && run.sent > 0) {
    const boundary = (Math.floor(Date.now() / WINDOW_MS) + 1) * WINDOW_MS;
    await new Promise((resolve) => setTimeout(resolve, boundary + SENTINEL_MARGIN_MS - Date.now())); // a clock time, not a condition
    const numShards = client.router.placement.numShards;
    const found = new Map<number, string>();
    for (let i = 0; found.size < numShards && i < numShards * 1000; i++) {
      const id = `${run.prefix}.sentinel.${i}`;
      const shard = client.router.shardOf(id);
      if (!found.has(shard)) found.set(shard, id);
    }
    run.sentinelIds = [...found.values()];
    run.sentinelWindowEndMs = boundary + WINDOW_MS;
    for (const id of run.sentinelIds) {
      run.ledger.counter(id, 1);
      const wait = client.counter(id, 1);
      if (wait !== undefined) await wait;
    }
    // Timed windows flush later than untimed ones (after the aggregator's bufferDurationForPastTimedMetric,
    // 10 s in the fixture): with timed metrics in the load, a timed sentinel per shard too, in the same window.
    if (run.sentByType.timed > 0) {
      const timeMs = Date.now();
      const byShard = new Map<number, string>();
      for (let i = 0; byShard.size < numShards && i < numShards * 1000; i++) {
        const id = `${run.prefix}.tsentinel.${i}`;
        const shard = client.router.shardOf(id);
        if (!byShard.has(shard)) byShard.set(shard, id);
      }
      for (const id of byShard.values()) {
        run.ledger.timedValue(id, timeMs, 1);
        run.sentinelIds.push(id);
        const wait = client.timed({ metricType: "counter", id, timeNanos: BigInt(timeMs) * 1_000_000n, value: 1, storagePolicy: "10s:2d", aggregationTypes: ["sum"] });
        if (wait !== undefined) await wait;
      }
    }
  }
  run.delivery = await client.close();
}

/**
 * Phase 3: wait until every sentinel is in the sink and every check matches, or the settle timeout.
 * Once the sentinels are in, a mismatch is reported after a short grace (m3msg connections deliver
 * independently) instead of waiting out the whole timeout.
 */
async function settle(run: LoadRun): Promise<{ settleMs: number | null; sentinelsSeen: boolean; checks: LoadChecks | null }> {
  if (!run.verify) return { settleMs: null, sentinelsSeen: false, checks: null };
  const sink = run.cluster.getSink();
  const settleStart = Date.now();
  let sentinelsAt: number | undefined;
  let last: LoadChecks | null = null;
  const mine = () => sink.datapoints().filter((p) => p.id.startsWith(run.prefix));
  const outcome = await poll(() => {
    const points = mine();
    const sentinelIds = new Set(run.sentinelIds);
    const seen = new Set(points.filter((p) => sentinelIds.has(p.id)).map((p) => p.id));
    if (sentinelsAt === undefined && seen.size === sentinelIds.size) sentinelsAt = Date.now();
    last = checkLoad(run.ledger, points);
    if (sentinelsAt !== undefined && checksPass(last)) return "settled" as const;
    if (sentinelsAt !== undefined && Date.now() - sentinelsAt >= SENTINEL_GRACE_MS) return "mismatch" as const;
    return undefined;
  }, { timeoutMs: run.o.settleTimeoutMs, intervalMs: 200, what: "the sink to hold every sentinel" }).catch(() => "timeout" as const);
  return { settleMs: outcome === "settled" ? Date.now() - settleStart : null, sentinelsSeen: sentinelsAt !== undefined, checks: last };
}

/** Per window end: which producer flushed how many of this run's datapoints. */
function flushedByWindow(sink: ReturnType<LoadTarget["getSink"]>, prefix: string): Record<string, Record<string, number>> | null {
  if (sink.flushedBy === undefined) return null;
  const out: Record<string, Record<string, number>> = {};
  for (const p of sink.datapoints()) {
    if (!p.id.startsWith(prefix)) continue;
    const window = String(p.timeNanos / 1_000_000n);
    const row = (out[window] ??= {});
    for (const producer of sink.flushedBy(p)) row[producer] = (row[producer] ?? 0) + 1;
  }
  return out;
}

/** After the sentinels are in, how long a mismatch may still resolve (m3msg connections deliver independently). */
const SENTINEL_GRACE_MS = 5_000;
/** How long after the window boundary the sentinels go (arrival on the nodes must be in the new window). */
const SENTINEL_MARGIN_MS = 500;

/**
 * Sends a bounded load to `cluster` and reports. With a sink (and `verify` not false) it checks every
 * type exactly (see {@link checkLoad}) after sentinel windows proved the flushes complete.
 * Phases: prepare → send → sentinels (and close) → settle → report.
 * Throws {@link InvalidLoadOptionError} first for bad options.
 */
export async function runLoad(cluster: LoadTarget, options: LoadOptions = {}): Promise<LoadReport> {
  const run = await prepare(cluster, options);
  const sinkSeen = (): { datapoints: number; counterTotal: number } => {
    const counterPrefix = `${run.prefix}.counter.`;
    let counterTotal = 0;
    let datapoints = 0;
    for (const p of cluster.getSink().datapoints()) {
      if (!p.id.startsWith(run.prefix)) continue;
      datapoints++;
      if (p.id.startsWith(counterPrefix)) counterTotal += p.value;
    }
    return { datapoints, counterTotal };
  };

  run.start = Date.now();
  const chaos = run.timeline?.begin(run.start);
  let lastSent = 0;
  let lastTick = Date.now();
  const progress = setInterval(() => {
    chaos?.sample(run.sent, run.verify ? sinkSeen().counterTotal : null);
    if (options.onProgress === undefined) return;
    const now = Date.now();
    const ratePerSec = Math.round(((run.sent - lastSent) * 1000) / Math.max(1, now - lastTick));
    lastSent = run.sent;
    lastTick = now;
    options.onProgress({
      phase: run.phase, elapsedMs: now - run.start, sent: run.sent, ratePerSec,
      ...(run.verify ? { sink: { ...sinkSeen(), expectedCounterTotal: run.sentByType.counter } } : {}),
    });
  }, 1000);
  try {
    await send(run);
    await chaos?.stepsDone();
    run.phase = "settle";
    await sentinels(run);
    const settled = await settle(run);
    const result = await report(run, settled);
    if (chaos !== undefined) result.timeline = await chaos.finish(run.sent, run.verify ? sinkSeen().counterTotal : null);
    if (options.report !== undefined) writeLoadReportHtml(options.report, result);
    return result;
  } finally {
    clearInterval(progress);
    chaos?.cancel();
    await run.client.close({ timeoutMs: 1_000 }).catch(() => undefined);
  }
}

/** Phase 4: the nodes' own counters, the sink's duplicates and conflicts, the verdict. */
async function report(run: LoadRun, settled: Awaited<ReturnType<typeof settle>>): Promise<LoadReport> {
  const { cluster, o } = run;
  const aggCpuEnd = await nodesCpuSeconds(run.containerIds);
  const selfAfter = await Promise.all(cluster.nodes.map((n) => selfCounters(n)));
  // The nodes there now (a topology change may have added or removed some); one added since counts from 0.
  const aggregators = cluster.nodes.map((n, i) => selfReport(n.id, run.selfBefore.get(n.id) ?? NO_COUNTS, selfAfter[i] as SelfCounters | string));
  const sinkStats = run.verify ? cluster.getSink().stats() : undefined;
  const checks = settled.checks;
  const expected = run.sentByType.counter;
  const counterPrefix = `${run.prefix}.counter.`;
  const observed = run.verify ? cluster.getSink().datapoints().filter((p) => p.id.startsWith(counterPrefix)).reduce((sum, p) => sum + p.value, 0) : null;
  const addErrors = aggregators.reduce((s, a) => s + a.addErrors, 0);
  const decodeErrors = aggregators.reduce((s, a) => s + a.decodeErrors, 0);
  const problems: string[] = [];
  if (!run.verify) problems.push("not verified (no sink in this process)");
  if (run.sent === 0) problems.push("nothing was sent");
  if (run.verify && !settled.sentinelsSeen) problems.push(`the sentinels did not all reach the sink within ${o.settleTimeoutMs / 1000} s`);
  if (checks !== null) {
    for (const [type, c] of Object.entries(checks)) if (c.mismatches > 0 || c.matched !== c.expected) problems.push(`${type}: ${c.mismatches} of ${c.expected} do not match (${c.examples.join("; ")})`);
  }
  if ((sinkStats?.conflicts ?? 0) > 0) problems.push(`${sinkStats?.conflicts} conflicting datapoints in the sink`);
  if (addErrors > 0) problems.push(`${addErrors} add errors on the nodes`);
  if (decodeErrors > 0) problems.push(`${decodeErrors} decode errors on the nodes`);
  return {
    clusterId: cluster.getId(),
    nodes: cluster.nodes.length,
    idPrefix: run.prefix,
    options: {
      rate: o.rate, durationSeconds: Number.isFinite(o.durationMs) ? o.durationMs / 1000 : null, count: Number.isFinite(o.count) ? o.count : null,
      ids: o.ids, mix: o.mix, connections: o.connections, m3Version: run.client.m3Version,
    },
    sent: run.sent,
    sentByType: run.sentByType,
    sendMs: run.sendMs,
    sendRatePerSec: Math.round((run.sent * 1000) / Math.max(1, run.sendMs)),
    verified: run.verify,
    expectedCounterTotal: expected,
    observedCounterTotal: observed,
    lost: observed === null ? null : expected - observed,
    checks,
    sentinel: run.verify ? { ids: run.sentinelIds.length, windowEndMs: run.sentinelWindowEndMs, seen: settled.sentinelsSeen } : null,
    duplicates: sinkStats?.duplicates ?? null,
    conflicts: sinkStats?.conflicts ?? null,
    settleMs: settled.settleMs,
    clientCpuSeconds: run.clientCpuSeconds,
    aggregatorCpuSeconds: run.aggCpuSend,
    aggregatorCpuSecondsUntilSettled: run.aggCpu0 === null || aggCpuEnd === null ? null : round(aggCpuEnd - run.aggCpu0, 2),
    aggregators,
    delivery: run.delivery,
    flushedBy: run.verify ? flushedByWindow(cluster.getSink(), run.prefix) : null,
    problems,
    ok: problems.length === 0,
  };
}

/** The report as a table (for the CLI). */
export function formatLoadReport(r: LoadReport): string {
  const n = (x: number | null) => (x === null ? "-" : x.toLocaleString("en-US"));
  const lines = [
    `load on cluster ${r.clusterId} (${r.nodes} nodes, m3 wire ${r.options.m3Version}): ${r.options.ids.toLocaleString("en-US")} ids, mix ${Object.entries(r.options.mix).map(([k, v]) => `${k}=${v}`).join(",")}, rate ${r.options.rate}, ${r.options.connections} connection(s) per node`,
    "",
    `sent                      ${n(r.sent)} in ${r.sendMs} ms (${Object.entries(r.sentByType).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${n(v)}`).join(", ")})`,
    `send rate                 ${n(r.sendRatePerSec)} metrics/s`,
    `counter total expected    ${n(r.expectedCounterTotal)}`,
    `counter total observed    ${r.verified ? n(r.observedCounterTotal) : "not checked (no sink in this process)"}`,
    `lost                      ${r.verified ? n(r.lost) : "-"}`,
    `duplicates (sink)         ${n(r.duplicates)}${r.conflicts ? `, conflicts ${r.conflicts}` : ""}`,
    `settled after             ${r.settleMs === null ? "-" : `${r.settleMs} ms`}`,
    `client CPU                ${r.clientCpuSeconds} s`,
    `aggregators CPU           ${r.aggregatorCpuSeconds ?? "-"} s during the send, ${r.aggregatorCpuSecondsUntilSettled ?? "-"} s until settled`,
    "",
    "node            added        add errors  dropped  decode errors  flushes  mean flush lag",
    ...r.aggregators.map((a) => a.error !== undefined
      ? `${a.id.padEnd(15)} metrics unavailable: ${a.error}`
      : `${a.id.padEnd(15)} ${n(a.added).padEnd(12)} ${n(a.addErrors).padEnd(11)} ${n(a.dropped).padEnd(8)} ${n(a.decodeErrors).padEnd(14)} ${String(a.flushLag?.flushes ?? 0).padEnd(8)} ${a.flushLag === null ? "-" : `${a.flushLag.meanSeconds} s`}`),
    ...(r.timeline === undefined ? [] : ["", ...formatTimeline(r.timeline)]),
    "",
    ...(r.checks === null ? [] : [
      "type      expected        observed        matched / expected",
      ...Object.entries(r.checks).filter(([, c]) => c.expected > 0).map(([type, c]) => `${type.padEnd(9)} ${n(c.expectedTotal).padEnd(15)} ${n(c.observedTotal).padEnd(15)} ${n(c.matched)} / ${n(c.expected)}${c.examples.length > 0 ? `  e.g. ${c.examples[0]}` : ""}`),
      "",
    ]),
    ...(r.delivery === null ? [] : [`client delivery           written ${n(r.delivery.written)}, lost ${n(r.delivery.lost)}${r.delivery.lost > 0 ? ` (${Object.entries(r.delivery.endpoints).filter(([, e]) => e.lost > 0).map(([id, e]) => `${id} ${n(e.lost)}: ${Object.keys(e.lostBy).join(", ")}`).join("; ")})` : ""}, dropped ${n(r.delivery.dropped)}`, ""]),
    r.verified ? (r.ok ? "OK: every metric checked exactly (counters, gauges, timers, timed), no conflict, no add or decode error" : `FAILED: ${r.problems.join("; ")}`) : "sent only (no exact check)",
  ];
  return lines.join("\n");
}
