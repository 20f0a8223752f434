/**
 * Storage policies ("10s:2d") and aggregation types ("sum", "p99") as m3
 * encodes them: nanosecond integers, and AggregationID bit sets.
 */
import { NANOS_PER_UNIT, UNITS_LARGEST_FIRST } from "../model/time";

/** A bad metric or metric option: names the field, the value and the rule. */
export class InvalidMetricError extends Error {
  override readonly name = "InvalidMetricError";
  constructor(readonly field: string, readonly value: unknown, readonly rule: string) {
    super(`invalid metric ${field}=${typeof value === "bigint" ? `${value}n` : typeof value === "number" && !Number.isFinite(value) ? String(value) : JSON.stringify(value)}: ${rule}`);
  }
}

const NS: Readonly<Record<string, bigint>> = NANOS_PER_UNIT;
// Largest first: m3's precision is the largest unit that divides the window.
const PRECISIONS = UNITS_LARGEST_FIRST.map(([nanos]) => nanos);

function duration(field: string, text: string): bigint {
  const match = /^(\d+)(ns|us|ms|s|m|h|d|y)$/.exec(text);
  if (match === null || BigInt(match[1] as string) === 0n) {
    throw new InvalidMetricError(field, text, "must be a positive whole number with a unit ns, us, ms, s, m, h, d or y, e.g. 10s:2d");
  }
  return BigInt(match[1] as string) * (NS[match[2] as string] as bigint);
}

/** A storage policy in nanoseconds. */
export interface StoragePolicyNanos {
  windowNanos: bigint;
  precisionNanos: bigint;
  retentionNanos: bigint;
}

/** Parses `resolution:retention`, e.g. "10s:2d", "1m:40d". */
export function parseStoragePolicy(text: string, field = "storagePolicy"): StoragePolicyNanos {
  const parts = typeof text === "string" ? text.split(":") : [];
  if (parts.length !== 2) throw new InvalidMetricError(field, text, "must be resolution:retention, e.g. 10s:2d");
  const windowNanos = duration(field, parts[0] as string);
  const retentionNanos = duration(field, parts[1] as string);
  const precisionNanos = PRECISIONS.find((unit) => windowNanos % unit === 0n) as bigint;
  return { windowNanos, precisionNanos, retentionNanos };
}

/** m3's aggregation types and their enum values (the bit they set in an AggregationID). */
export const AGGREGATION_TYPES = {
  last: 1, min: 2, max: 3, mean: 4, median: 5, count: 6, sum: 7, sumsq: 8, stdev: 9,
  p10: 10, p20: 11, p30: 12, p40: 13, p50: 14, p60: 15, p70: 16, p80: 17, p90: 18, p95: 19, p99: 20, p999: 21, p9999: 22, p25: 23, p75: 24,
} as const;

export type AggregationTypeName = keyof typeof AGGREGATION_TYPES;
export type MetricKind = "counter" | "gauge" | "timer";

const QUANTILES = new Set(["median", "p10", "p20", "p25", "p30", "p40", "p50", "p60", "p70", "p75", "p80", "p90", "p95", "p99", "p999", "p9999"]);

/** Whether m3 accepts the aggregation type for the metric type (an invalid one makes the add fail). */
function allowed(kind: MetricKind, type: string): boolean {
  if (kind === "timer") return type !== "last";
  if (kind === "gauge") return !QUANTILES.has(type);
  return type !== "last" && !QUANTILES.has(type);
}

/** The AggregationID bit set of the given types for this metric type. */
export function aggregationId(kind: MetricKind, types: readonly string[], field = "aggregationTypes"): bigint {
  if (!Array.isArray(types) || types.length === 0) throw new InvalidMetricError(field, types, "must be a non-empty list of aggregation types");
  let id = 0n;
  for (const type of types) {
    const bit = (AGGREGATION_TYPES as Record<string, number>)[type];
    if (bit === undefined) throw new InvalidMetricError(field, type, `is not an aggregation type (known: ${Object.keys(AGGREGATION_TYPES).join(", ")})`);
    if (!allowed(kind, type)) throw new InvalidMetricError(field, type, `is not valid for a ${kind} in m3`);
    id |= 1n << BigInt(bit);
  }
  return id;
}
