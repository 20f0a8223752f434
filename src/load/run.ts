/**
 * runLoad: a bounded load against a running cluster, then (with the sink
 * backend) an exact check that every counter increment was aggregated and
 * flushed exactly once, plus what the client, the aggregators and the sink
 * spent and saw. The library behind `m3agg load`.
 *
 * @example
 * const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, backend: "sink" });
 * const report = await runLoad(cluster, { durationSeconds: 10, rate: 50_000 });
 * expect(report.lost).toBe(0);
 */
import { containerCpuSeconds } from "../docker/client";
import { M3IngestClient, type PlacementSource } from "../ingest/client";
import type { M3Version } from "../model/versions";
import type { PrometheusMetrics } from "../m3/prometheus";
import type { AggregatedDatapoint } from "../sink/codec";

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
  /** Check the counter totals in the sink exactly. Default: when the cluster has a sink. */
  verify?: boolean;
  /** How long to wait for the sink to see every increment after the send. Default 120 s. */
  settleTimeoutSeconds?: number;
  /** Prefix of every id (default `load.<random>`), so runs on one cluster do not mix. */
  idPrefix?: string;
  /** Wire version (default: the cluster's, else v1.6.0). */
  m3Version?: M3Version;
  /** Called about once a second while sending and while waiting for the sink. */
  onProgress?: (progress: LoadProgress) => void;
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
  /** From the end of the send until the sink had every increment (null when not verified or never). */
  settleMs: number | null;
  /** This process's CPU over the send (includes the in-process sink when the cluster was started here). */
  clientCpuSeconds: number;
  /** The aggregator containers' CPU (cgroup counters via docker stats) over the send, and until settled. */
  aggregatorCpuSeconds: number | null;
  aggregatorCpuSecondsUntilSettled: number | null;
  aggregators: AggregatorSelfReport[];
  /** True when verified and lost === 0. */
  ok: boolean;
}

/** What runLoad needs of a cluster: a started cluster fits. */
export interface LoadTarget {
  getId(): string;
  placement: Exclude<PlacementSource, { instances: unknown }>["placement"];
  getM3Version?(): M3Version;
  readonly tls?: Exclude<PlacementSource, { instances: unknown }>["tls"];
  readonly nodes: ReadonlyArray<{ readonly id: string; getId(): string; metrics(): Promise<PrometheusMetrics> }>;
  /** The in-process sink (throws when the cluster has none). */
  getSink(): { datapoints(): AggregatedDatapoint[]; stats(): { duplicates: number; conflicts: number } };
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
  if (!pattern.includes("counter") && options.verify === true) throw new InvalidLoadOptionError("mix", mix, "verify needs counters in the mix (the exact check is on counter totals)");
  const settleTimeoutMs = (options.settleTimeoutSeconds ?? 120) * 1000;
  if (!(settleTimeoutMs > 0)) throw new InvalidLoadOptionError("settleTimeoutSeconds", options.settleTimeoutSeconds, "must be a positive number of seconds");
  return { rate, durationMs, count, ids, mix: Object.fromEntries(weights), pattern, connections, settleTimeoutMs };
}

/** The nodes' CPU seconds so far, or null when unknown (no containers, or the engine's stats failed). */
async function nodesCpuSeconds(containerIds: string[]): Promise<number | null> {
  if (containerIds.length === 0) return null;
  return containerCpuSeconds(containerIds).catch(() => null);
}

interface SelfCounters { added: number; addErrors: number; dropped: number; decodeErrors: number; lagSum: number; lagCount: number }

const M = "m3aggregator_aggregator_";

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

/**
 * Sends a bounded load to `cluster` and reports. With a sink (and `verify` not false) it waits
 * until the sink's counter totals equal what was sent, or `settleTimeoutSeconds` passes; then
 * `lost` says how many increments never arrived. Throws {@link InvalidLoadOptionError} first for bad options.
 */
export async function runLoad(cluster: LoadTarget, options: LoadOptions = {}): Promise<LoadReport> {
  const o = resolveLoadOptions(options);
  const verify = options.verify ?? hasSink(cluster);
  if (verify && !hasSink(cluster)) throw new InvalidLoadOptionError("verify", true, `cluster ${cluster.getId()} has no sink in this process (start it with backend "sink", here)`);
  if (verify && !o.pattern.includes("counter")) throw new InvalidLoadOptionError("mix", o.mix, "verify needs counters in the mix (the exact check is on counter totals)");
  const prefix = options.idPrefix ?? `load.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const ids = Array.from({ length: o.ids }, (_, k) => `${prefix}.${o.pattern[k % o.pattern.length]}.${k}`);
  const kinds = Array.from({ length: o.ids }, (_, k) => o.pattern[k % o.pattern.length] as LoadMetricType);
  const counterPrefix = `${prefix}.counter.`;

  const client = await M3IngestClient.connect(cluster, {
    connectionsPerEndpoint: o.connections,
    ...(options.m3Version === undefined ? {} : { m3Version: options.m3Version }),
  });
  const containerIds = cluster.nodes.map((n) => n.getId());
  const selfBefore = await Promise.all(cluster.nodes.map((n) => selfCounters(n)));
  const aggCpu0 = await nodesCpuSeconds(containerIds);

  const sentByType: Record<LoadMetricType, number> = { counter: 0, gauge: 0, timer: 0, timed: 0 };
  let sent = 0;
  let expected = 0;
  let phase: LoadProgress["phase"] = "send";
  const sinkSeen = (): { datapoints: number; counterTotal: number } => {
    const points = cluster.getSink().datapoints();
    let counterTotal = 0;
    let datapoints = 0;
    for (const p of points) {
      if (!p.id.startsWith(prefix)) continue;
      datapoints++;
      if (p.id.startsWith(counterPrefix)) counterTotal += p.value;
    }
    return { datapoints, counterTotal };
  };

  const start = Date.now();
  let lastSent = 0;
  let lastTick = start;
  const progress = setInterval(() => {
    if (options.onProgress === undefined) return;
    const now = Date.now();
    const ratePerSec = Math.round(((sent - lastSent) * 1000) / Math.max(1, now - lastTick));
    lastSent = sent;
    lastTick = now;
    options.onProgress({ phase, elapsedMs: now - start, sent, ratePerSec, ...(verify ? { sink: { ...sinkSeen(), expectedCounterTotal: expected } } : {}) });
  }, 1000);

  const cpu0 = process.cpuUsage();
  let sendMs = 0;
  let clientCpuSeconds = 0;
  let aggCpuSend: number | null = null;
  try {
    const sendOne = (): Promise<void> | undefined => {
      const k = sent % o.ids;
      const id = ids[k] as string;
      const kind = kinds[k] as LoadMetricType;
      sent++;
      sentByType[kind]++;
      switch (kind) {
        case "counter":
          expected += 1;
          return client.counter(id, 1);
        case "gauge":
          return client.gauge(id, (sent % 1000) + 0.5);
        case "timer":
          return client.timer(id, [(sent % 100) + 1]);
        default:
          return client.timed({ metricType: "counter", id, timeNanos: BigInt(Date.now()) * 1_000_000n, value: 1, storagePolicy: "10s:2d", aggregationTypes: ["sum"] });
      }
    };
    const deadline = start + o.durationMs;
    if (o.rate === "max") {
      while (sent < o.count && Date.now() < deadline) {
        const end = Math.min(o.count, sent + 2048);
        while (sent < end) {
          const wait = sendOne();
          if (wait !== undefined) await wait;
        }
        await new Promise<void>((resolve) => setImmediate(resolve)); // timers, progress, the sink
      }
    } else {
      const rate = o.rate;
      while (sent < o.count && Date.now() < deadline) {
        const due = Math.min(o.count, Math.floor(((Date.now() - start) * rate) / 1000));
        while (sent < due) {
          const wait = sendOne();
          if (wait !== undefined) await wait;
        }
        await new Promise<void>((resolve) => setTimeout(resolve, 2));
      }
    }
    await client.close();
    sendMs = Date.now() - start;
    const cpu = process.cpuUsage(cpu0);
    clientCpuSeconds = round((cpu.user + cpu.system) / 1e6);
    const aggCpu1 = await nodesCpuSeconds(containerIds);
    aggCpuSend = aggCpu0 === null || aggCpu1 === null ? null : round(aggCpu1 - aggCpu0, 2);

    phase = "settle";
    let observed: number | null = null;
    let settleMs: number | null = null;
    if (verify) {
      const settleStart = Date.now();
      const settleDeadline = settleStart + o.settleTimeoutMs;
      for (;;) {
        observed = sinkSeen().counterTotal;
        if (observed >= expected) {
          settleMs = Date.now() - settleStart;
          break;
        }
        if (Date.now() >= settleDeadline) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Late re-sends show up as duplicates, not as extra totals: the sink keeps each datapoint once.
    }
    const aggCpuEnd = await nodesCpuSeconds(containerIds);
    const selfAfter = await Promise.all(cluster.nodes.map((n) => selfCounters(n)));
    const sinkStats = verify ? cluster.getSink().stats() : undefined;
    const lost = observed === null ? null : expected - observed;
    return {
      clusterId: cluster.getId(),
      nodes: cluster.nodes.length,
      idPrefix: prefix,
      options: {
        rate: o.rate, durationSeconds: Number.isFinite(o.durationMs) ? o.durationMs / 1000 : null, count: Number.isFinite(o.count) ? o.count : null,
        ids: o.ids, mix: o.mix, connections: o.connections, m3Version: client.m3Version,
      },
      sent,
      sentByType,
      sendMs,
      sendRatePerSec: Math.round((sent * 1000) / Math.max(1, sendMs)),
      verified: verify,
      expectedCounterTotal: expected,
      observedCounterTotal: observed,
      lost,
      duplicates: sinkStats?.duplicates ?? null,
      conflicts: sinkStats?.conflicts ?? null,
      settleMs,
      clientCpuSeconds,
      aggregatorCpuSeconds: aggCpuSend,
      aggregatorCpuSecondsUntilSettled: aggCpu0 === null || aggCpuEnd === null ? null : round(aggCpuEnd - aggCpu0, 2),
      aggregators: cluster.nodes.map((n, i) => selfReport(n.id, selfBefore[i] as SelfCounters | string, selfAfter[i] as SelfCounters | string)),
      ok: verify && lost === 0,
    };
  } finally {
    clearInterval(progress);
    await client.close().catch(() => undefined);
  }
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
    "",
    r.verified ? (r.ok ? "OK: every counter increment arrived exactly once" : `FAILED: ${n(r.lost)} counter increments lost`) : "sent only (no exact check)",
  ];
  return lines.join("\n");
}
