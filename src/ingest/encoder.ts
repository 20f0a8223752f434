/**
 * Encodes metrics into raw TCP frames: a zigzag (signed) varint size, as Go's
 * binary.PutVarint writes it, then a MetricWithMetadatas. Payloads go through
 * protobufjs with our own proto/m3-ingest.proto.
 */
import * as path from "node:path";
import * as protobuf from "protobufjs";
import { aggregationId, InvalidMetricError, type MetricKind, parseStoragePolicy, type StoragePolicyNanos } from "./policy";

const root = protobuf.loadSync(path.resolve(__dirname, "../../proto/m3-ingest.proto"));
const MetricWithMetadatas = root.lookupType("m3agg.ingest.MetricWithMetadatas");

/** Which aggregations and storage policies apply; omitted = the aggregator's defaults. */
export interface MetricPolicy {
  /** e.g. ["10s:2d"]; default: the aggregator's `defaultStoragePolicies`. */
  storagePolicies?: string[];
  /** e.g. ["sum"], ["max", "p99"]; default: m3's per-type defaults (counter sum, gauge last, timer 11 stats). */
  aggregationTypes?: string[];
}

export type Metric =
  | ({ type: "counter"; id: string | Uint8Array; value: number | bigint } & MetricPolicy)
  | ({ type: "gauge"; id: string | Uint8Array; value: number; allowNaN?: boolean } & MetricPolicy)
  | ({ type: "timer"; id: string | Uint8Array; values: number[] } & MetricPolicy)
  | { type: "timed"; metricType: MetricKind; id: string | Uint8Array; timeNanos: bigint; value: number; storagePolicy: string; aggregationTypes?: string[] };

const TYPE = { counter: 1, timer: 2, gauge: 3, timed: 5 } as const;
const METRIC_TYPE = { counter: 1, timer: 2, gauge: 3 } as const;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Zigzag varint of a frame size (Go's binary.PutVarint): 27 → 0x36, 64 → 0x80 0x01. */
export function zigzagVarint(size: number): Buffer {
  const bytes: number[] = [];
  let zz = BigInt(size) << 1n; // sizes are never negative: zigzag is a plain doubling
  do {
    let byte = Number(zz & 0x7fn);
    zz >>= 7n;
    if (zz > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (zz > 0n);
  return Buffer.from(bytes);
}

/** The id's bytes; throws for an empty id. */
export function idBytes(id: string | Uint8Array): Buffer {
  const bytes = typeof id === "string" ? Buffer.from(id, "utf8") : Buffer.from(id);
  if (bytes.length === 0) throw new InvalidMetricError("id", id, "must not be empty");
  return bytes;
}

const policyObject = (p: StoragePolicyNanos) => ({
  resolution: { windowSize: p.windowNanos.toString(), precision: p.precisionNanos.toString() },
  retention: { period: p.retentionNanos.toString() },
});

function finite(field: string, value: unknown, allowNaN = false): number {
  if (typeof value !== "number" || (!allowNaN && Number.isNaN(value)) || value === Infinity || value === -Infinity) {
    throw new InvalidMetricError(field, value, allowNaN ? "must be a number, not ±Infinity" : "must be a finite number (NaN is dropped by m3)");
  }
  return value;
}

/** One staged metadata with one pipeline: the aggregator's defaults when the policy is empty. */
function stagedMetadatas(kind: MetricKind, policy: MetricPolicy) {
  const pipeline = {
    aggregationId: policy.aggregationTypes === undefined ? {} : { id: aggregationId(kind, policy.aggregationTypes).toString() },
    storagePolicies: (policy.storagePolicies ?? []).map((p, i) => policyObject(parseStoragePolicy(p, `storagePolicies[${i}]`))),
    pipeline: {},
  };
  // The lists must hold an element even for "use defaults" (m3 rejects an empty metadata list).
  return { metadatas: [{ metadata: { pipelines: [pipeline] } }] };
}

function payload(metric: Metric): Record<string, unknown> {
  switch (metric.type) {
    case "counter": {
      const value = typeof metric.value === "bigint" ? metric.value : Number.isSafeInteger(metric.value) ? BigInt(metric.value) : undefined;
      if (value === undefined || value < INT64_MIN || value > INT64_MAX) {
        throw new InvalidMetricError("value", metric.value, "a counter increment must be a whole number (int64)");
      }
      return { type: TYPE.counter, counterWithMetadatas: { counter: { id: idBytes(metric.id), value: value.toString() }, metadatas: stagedMetadatas("counter", metric) } };
    }
    case "gauge":
      return { type: TYPE.gauge, gaugeWithMetadatas: { gauge: { id: idBytes(metric.id), value: finite("value", metric.value, metric.allowNaN) }, metadatas: stagedMetadatas("gauge", metric) } };
    case "timer": {
      if (!Array.isArray(metric.values) || metric.values.length === 0) throw new InvalidMetricError("values", metric.values, "a batch timer needs at least one value");
      const values = metric.values.map((v, i) => finite(`values[${i}]`, v));
      return { type: TYPE.timer, batchTimerWithMetadatas: { batchTimer: { id: idBytes(metric.id), values }, metadatas: stagedMetadatas("timer", metric) } };
    }
    case "timed": {
      const metricType = METRIC_TYPE[metric.metricType];
      if (metricType === undefined) throw new InvalidMetricError("metricType", metric.metricType, "must be counter, gauge or timer");
      if (typeof metric.timeNanos !== "bigint" || metric.timeNanos <= 0n) throw new InvalidMetricError("timeNanos", metric.timeNanos, "must be a positive bigint (ns since the epoch)");
      // A timed metric needs an explicit storage policy, or m3 drops the connection.
      const policy = parseStoragePolicy(metric.storagePolicy, "storagePolicy");
      return {
        type: TYPE.timed,
        timedMetricWithMetadata: {
          metric: { type: metricType, id: idBytes(metric.id), timeNanos: metric.timeNanos.toString(), value: finite("value", metric.value) },
          metadata: {
            aggregationId: metric.aggregationTypes === undefined ? {} : { id: aggregationId(metric.metricType, metric.aggregationTypes).toString() },
            storagePolicy: policyObject(policy),
          },
        },
      };
    }
    default:
      throw new InvalidMetricError("type", (metric as { type: unknown }).type, "must be counter, gauge, timer or timed");
  }
}

/** The MetricWithMetadatas payload of one metric (no size prefix). */
export function encodePayload(metric: Metric): Uint8Array {
  return MetricWithMetadatas.encode(MetricWithMetadatas.fromObject(payload(metric))).finish();
}

/** One complete frame: zigzag varint size + payload. Throws {@link InvalidMetricError} for bad input. */
export function encodeFrame(metric: Metric): Buffer {
  const body = encodePayload(metric);
  return Buffer.concat([zigzagVarint(body.length), body]);
}
