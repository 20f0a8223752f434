/**
 * Encodes metrics into m3's raw TCP frames: a zigzag (signed) varint size, as
 * Go's binary.PutVarint writes it, then a `metricpb.MetricWithMetadatas`.
 *
 * Hand-written protobuf, byte-identical to m3's own Go encoder
 * (`src/metrics/encoding/protobuf` UnaggregatedEncoder, gogo `MarshalTo`):
 * fields in field-number order, scalars only when non-zero, and embedded
 * non-nullable messages ALWAYS written, even when empty (`1a 00`). Two wire
 * versions: m3 v1.6.0 adds `routing_policy` (PipelineMetadata field 6,
 * TimedMetadata field 3), which Go always writes (`32 00` / `1a 00` when
 * empty); v1.5.0 has no such field. test/unit/ingest/go-vectors.test.ts
 * compares our bytes with m3's encoder at both versions.
 *
 * No frame this encoder produces has an 11-byte payload (the smallest is a
 * counter with a 1-byte id and value 0: 21 bytes at v1.5.0). That matters:
 * an 11-byte payload's size prefix is zigzag(11) = 0x16, the byte m3's
 * raw TCP server in TLS `permissive` mode peeks to detect a TLS handshake.
 *
 * Speed: everything is sized first, then written once into a reusable buffer
 * ({@link IngestEncoder}); metadata bytes are built once per policy and cached;
 * an invalid metric throws before a byte is written.
 */
import { defaultM3Version, type M3Version, supportedM3Versions, versionProfile } from "../model/versions";
import { aggregationId, InvalidMetricError, type MetricKind, parseStoragePolicy } from "./policy";


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

/** Encoder options. */
export interface EncodeOptions {
  /**
   * m3's wire version: any supported version (default: the default cluster's). Its profile says which
   * fields to write: v1.6.0 writes the empty `routing_policy` fields, v1.5.0 does not.
   */
  m3Version?: M3Version;
  /**
   * Largest payload (bytes after the size prefix); a bigger frame throws InvalidMetricError and writes nothing.
   * Default 52,428,800: m3's `defaultMaxUnaggregatedMessageSize` (50 MiB, `unaggregated_options.go`).
   */
  maxMessageBytes?: number;
}

/** m3's raw TCP decoder limit by default (`defaultMaxUnaggregatedMessageSize = 50 * 1024 * 1024`). */
export const M3_MAX_MESSAGE_BYTES = 50 * 1024 * 1024;

const METRIC_TYPE = { counter: 1, timer: 2, gauge: 3 } as const;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO_32 = 4294967296;

/** The wire version, validated against the supported versions (model/versions.ts, from images/images.json). */
export function m3VersionOf(value: unknown, field = "m3Version"): M3Version {
  if (value === undefined) return defaultM3Version();
  const versions = supportedM3Versions();
  if (!(versions as readonly unknown[]).includes(value)) {
    throw new InvalidMetricError(field, value, `must be one of ${versions.join(", ")}`);
  }
  return value as M3Version;
}

// ---- varints -------------------------------------------------------------------------------------

/** Bytes of an unsigned varint of a non-negative integer below 2^53. */
function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 128);
  }
  return size;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = n >= TWO_32 ? Math.floor(n / 128) : n >>> 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Bytes of a 64-bit varint given as two unsigned 32-bit halves. */
function varint64Size(lo: number, hi: number): number {
  const part1 = ((lo >>> 28) | (hi << 4)) >>> 0;
  const part2 = hi >>> 24;
  if (part2 !== 0) return part2 < 128 ? 9 : 10;
  if (part1 !== 0) return part1 < 0x4000 ? (part1 < 0x80 ? 5 : 6) : part1 < 0x200000 ? 7 : 8;
  return lo < 0x4000 ? (lo < 0x80 ? 1 : 2) : lo < 0x200000 ? 3 : 4;
}

function writeVarint64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  while (hi !== 0) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

/** Zigzag varint of a frame size (Go's binary.PutVarint): 27 → 0x36, 64 → 0x80 0x01. */
export function zigzagVarint(size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0 || size > 2 ** 52) throw new RangeError(`frame size ${size} is not a whole number in 0..2^52`);
  const out = Buffer.allocUnsafe(varintSize(size * 2));
  writeVarint(out, 0, size * 2); // sizes are never negative: zigzag is a plain doubling
  return out;
}

/** The id's bytes; throws for an empty id. */
export function idBytes(id: string | Uint8Array): Buffer {
  const bytes = typeof id === "string" ? Buffer.from(id, "utf8") : id instanceof Uint8Array ? Buffer.from(id) : undefined;
  if (bytes === undefined) throw new InvalidMetricError("id", id, "must be a string or a Uint8Array");
  if (bytes.length === 0) throw new InvalidMetricError("id", id, "must not be empty");
  return bytes;
}

// ---- metadata, built once per policy and version ---------------------------------------------------

/** A length-delimited field (wire type 2) around `body`. */
function field(fieldNumber: number, body: readonly number[]): number[] {
  const out = [(fieldNumber << 3) | 2];
  let n = body.length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  for (const b of body) out.push(b);
  return out;
}

function varintField(fieldNumber: number, value: bigint): number[] {
  if (value === 0n) return [];
  const out = [fieldNumber << 3];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function storagePolicyBytes(text: string, fieldName: string): number[] {
  const p = parseStoragePolicy(text, fieldName);
  // StoragePolicy{ resolution = 1 {window_size = 1, precision = 2}, retention = 2 {period = 1} }: both always written.
  return [
    ...field(1, [...varintField(1, p.windowNanos), ...varintField(2, p.precisionNanos)]),
    ...field(2, varintField(1, p.retentionNanos)),
  ];
}

/** AggregationID{ id = 1 } bytes (the empty message for the defaults). */
function aggregationIdBytes(kind: MetricKind, types: string[] | undefined): number[] {
  return types === undefined ? [] : varintField(1, aggregationId(kind, types));
}

/** StagedMetadatas with one StagedMetadata holding one PipelineMetadata (m3 rejects an empty list). */
function stagedMetadatasBytes(kind: MetricKind, policy: MetricPolicy, version: M3Version): Buffer {
  const storagePolicies = policy.storagePolicies ?? [];
  if (!Array.isArray(storagePolicies)) throw new InvalidMetricError("storagePolicies", storagePolicies, "must be a list of resolution:retention strings, e.g. [\"10s:2d\"]");
  const pipeline = [
    ...field(1, aggregationIdBytes(kind, policy.aggregationTypes)),
    ...storagePolicies.flatMap((p, i) => field(2, storagePolicyBytes(p, `storagePolicies[${i}]`))),
    ...field(3, []), // pipeline: AppliedPipeline, empty
    ...(versionProfile(version).wire.routingPolicy ? field(6, []) : []), // routing_policy: RoutingPolicy, empty
  ];
  // StagedMetadatas.metadatas = 1 → StagedMetadata.metadata = 3 → Metadata.pipelines = 1
  return Buffer.from(field(1, field(3, field(1, pipeline))));
}

/** TimedMetadata{ aggregation_id = 1, storage_policy = 2, routing_policy = 3 (versions whose wire has it: v1.6.0) }. */
function timedMetadataBytes(kind: MetricKind, storagePolicy: string, types: string[] | undefined, version: M3Version): Buffer {
  return Buffer.from([
    ...field(1, aggregationIdBytes(kind, types)),
    ...field(2, storagePolicyBytes(storagePolicy, "storagePolicy")),
    ...(versionProfile(version).wire.routingPolicy ? field(3, []) : []),
  ]);
}

/** The default metadata (no policy given) of each version and kind, built on first use. */
const DEFAULT_METADATAS = new Map<M3Version, Record<MetricKind, Buffer>>();

function defaultMetadata(version: M3Version, kind: MetricKind): Buffer {
  let byKind = DEFAULT_METADATAS.get(version);
  if (byKind === undefined) {
    byKind = { counter: stagedMetadatasBytes("counter", {}, version), gauge: stagedMetadatasBytes("gauge", {}, version), timer: stagedMetadatasBytes("timer", {}, version) };
    DEFAULT_METADATAS.set(version, byKind);
  }
  return byKind[kind];
}

/** Built metadata per policy: a bounded cache, cleared when full (policies are few in practice). */
const METADATA_CACHE = new Map<string, Buffer>();
const METADATA_CACHE_MAX = 4096;

function cached(key: string, build: () => Buffer): Buffer {
  let bytes = METADATA_CACHE.get(key);
  if (bytes === undefined) {
    bytes = build(); // throws InvalidMetricError for a bad policy: nothing cached
    if (METADATA_CACHE.size >= METADATA_CACHE_MAX) METADATA_CACHE.clear();
    METADATA_CACHE.set(key, bytes);
  }
  return bytes;
}

function listKey(list: unknown): string {
  return Array.isArray(list) ? list.join("\u0000") : String(list);
}

function untimedMetadata(kind: MetricKind, policy: MetricPolicy | undefined, version: M3Version): Buffer {
  if (policy === undefined || (policy.storagePolicies === undefined && policy.aggregationTypes === undefined)) return defaultMetadata(version, kind);
  const key = `${version}\u0001${kind}\u0001${policy.storagePolicies === undefined ? "-" : `[${listKey(policy.storagePolicies)}`}\u0001${policy.aggregationTypes === undefined ? "-" : `[${listKey(policy.aggregationTypes)}`}`;
  return cached(key, () => stagedMetadatasBytes(kind, policy, version));
}

// ---- value checks ---------------------------------------------------------------------------------

function checkFinite(fieldName: string, value: unknown, allowNaN = false): number {
  if (typeof value !== "number" || (!allowNaN && Number.isNaN(value)) || value === Infinity || value === -Infinity) {
    throw new InvalidMetricError(fieldName, value, allowNaN ? "must be a number, not ±Infinity" : "must be a finite number (NaN is dropped by m3)");
  }
  return value;
}

const COUNTER_RULE = "a counter increment must be a whole number (int64)";

// ---- the encoder ------------------------------------------------------------------------------------

/**
 * Appends frames to one growing, reused buffer: the fast path of the ingest
 * client, and the way to pre-encode a load. Each append either writes one
 * whole frame or throws {@link InvalidMetricError} and leaves the buffer as it was.
 *
 * @example
 * const enc = new IngestEncoder({ m3Version: "v1.5.0" });
 * enc.counter("requests", 1);
 * enc.append({ type: "gauge", id: "queue.depth", value: 42.5 });
 * socket.write(enc.take());
 */
export class IngestEncoder {
  readonly m3Version: M3Version;
  readonly maxMessageBytes: number;
  /** The bytes written so far are `buffer.subarray(0, length)`. */
  buffer: Buffer;
  length = 0;
  // Scratch state of the metric being encoded (fields, not objects: no allocation per metric).
  private idLen = 0;
  private idAscii = false;
  private lo = 0;
  private hi = 0;

  constructor(options: EncodeOptions & { initialBytes?: number } = {}) {
    this.m3Version = m3VersionOf(options.m3Version);
    this.maxMessageBytes = options.maxMessageBytes ?? M3_MAX_MESSAGE_BYTES;
    this.buffer = Buffer.allocUnsafe(options.initialBytes ?? 64 * 1024);
  }

  /** Forgets the bytes written (keeps the buffer). */
  reset(): void {
    this.length = 0;
  }

  /** A copy of the bytes written, then {@link reset}. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.buffer.copy(out, 0, 0, this.length);
    this.length = 0;
    return out;
  }

  /** Makes room for `extra` more bytes (grows by doubling, keeping what was written). */
  ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = Math.max(this.buffer.length * 2, 1024);
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  /** Appends raw bytes (e.g. a frame encoded elsewhere). */
  appendBytes(bytes: Uint8Array, start = 0, end = bytes.length): void {
    const n = end - start;
    this.ensure(n);
    if (n <= 64) {
      const buf = this.buffer;
      let pos = this.length;
      for (let i = start; i < end; i++) buf[pos++] = bytes[i] as number;
    } else {
      this.buffer.set(bytes.subarray(start, end), this.length);
    }
    this.length += n;
  }

  /** Appends one frame for any metric; returns the frame's size in bytes. */
  append(metric: Metric): number {
    switch (metric?.type) {
      case "counter":
        return this.counter(metric.id, metric.value, metric);
      case "gauge":
        return this.gaugeValue(metric.id, metric.value, metric, metric.allowNaN === true);
      case "timer":
        return this.timer(metric.id, metric.values, metric);
      case "timed":
        return this.timed(metric);
      default:
        throw new InvalidMetricError("type", (metric as { type?: unknown } | undefined)?.type, "must be counter, gauge, timer or timed");
    }
  }

  /** Sizes the id into idLen / idAscii; throws for an empty or non-string id. */
  private sizeId(id: string | Uint8Array): number {
    if (typeof id === "string") {
      const n = id.length;
      if (n === 0) throw new InvalidMetricError("id", id, "must not be empty");
      if (n <= 128) {
        let ascii = true;
        for (let i = 0; i < n; i++) {
          if (id.charCodeAt(i) > 0x7f) {
            ascii = false;
            break;
          }
        }
        if (ascii) {
          this.idAscii = true;
          return (this.idLen = n);
        }
      }
      this.idAscii = false;
      return (this.idLen = Buffer.byteLength(id, "utf8"));
    }
    if (!(id instanceof Uint8Array)) throw new InvalidMetricError("id", id, "must be a string or a Uint8Array");
    if (id.length === 0) throw new InvalidMetricError("id", id, "must not be empty");
    this.idAscii = false;
    return (this.idLen = id.length);
  }

  /** Writes tag, length and the id bytes sized by {@link sizeId}. */
  private writeId(pos: number, tag: number, id: string | Uint8Array): number {
    const buf = this.buffer;
    const n = this.idLen;
    buf[pos++] = tag;
    pos = writeVarint(buf, pos, n);
    if (typeof id === "string") {
      if (this.idAscii) {
        for (let i = 0; i < n; i++) buf[pos + i] = id.charCodeAt(i);
      } else {
        buf.write(id, pos, n, "utf8");
      }
    } else if (n <= 64) {
      for (let i = 0; i < n; i++) buf[pos + i] = id[i] as number;
    } else {
      buf.set(id, pos);
    }
    return pos + n;
  }

  /** Splits an int64 counter value into lo/hi (two's complement); throws for anything else. */
  private int64(value: number | bigint): void {
    if (typeof value === "number") {
      if (value >= 0 && value < TWO_32 && Number.isInteger(value)) {
        this.lo = value;
        this.hi = 0;
        return;
      }
      if (!Number.isSafeInteger(value)) throw new InvalidMetricError("value", value, COUNTER_RULE);
      const abs = Math.abs(value);
      let lo = abs >>> 0;
      let hi = Math.floor(abs / TWO_32) >>> 0;
      if (value < 0) {
        lo = ~lo >>> 0;
        hi = ~hi >>> 0;
        lo = (lo + 1) >>> 0;
        if (lo === 0) hi = (hi + 1) >>> 0;
      }
      this.lo = lo;
      this.hi = hi;
      return;
    }
    if (typeof value !== "bigint" || value < INT64_MIN || value > INT64_MAX) throw new InvalidMetricError("value", value, COUNTER_RULE);
    this.uint64(value);
  }

  private uint64(value: bigint): void {
    const u = BigInt.asUintN(64, value);
    this.lo = Number(u & 0xffffffffn);
    this.hi = Number(u >> 32n);
  }

  /**
   * Makes room for a whole frame and writes its start: the zigzag size, `08 type` (MetricWithMetadatas.type)
   * and the tag and length of the one sub-message (`withLen` bytes) the type selects.
   * Returns the frame's size and where the sub-message's bytes go.
   */
  private frameHeader(type: number, tag: number, withLen: number): [number, number] {
    const payloadLen = 2 + 1 + varintSize(withLen) + withLen;
    if (payloadLen > this.maxMessageBytes) this.tooLarge(payloadLen);
    const frameLen = varintSize(payloadLen * 2) + payloadLen;
    this.ensure(frameLen);
    const buf = this.buffer;
    let pos = writeVarint(buf, this.length, payloadLen * 2);
    buf[pos++] = 0x08;
    buf[pos++] = type;
    buf[pos++] = tag;
    return [frameLen, writeVarint(buf, pos, withLen)];
  }

  /**
   * Writes the frame of an untimed metric: `size | 08 type | tag len [ 0a len metric | 12 len metadatas ]`.
   * `metricLen` is the size of the inner metric message; `writeBody` writes it.
   */
  private untimedFrame(type: number, metricLen: number, metadatas: Buffer): number {
    const withLen = 1 + varintSize(metricLen) + metricLen + 1 + varintSize(metadatas.length) + metadatas.length;
    // counter 2, batch timer 3, gauge 4: the field number is type + 1
    const [frameLen, start] = this.frameHeader(type, (type + 1) << 3 | 2, withLen);
    const buf = this.buffer;
    let pos = start;
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, metricLen);
    this.pending = pos; // where the metric body goes; the caller writes it, then the metadata follows
    this.metadataAt = pos + metricLen;
    pos = this.metadataAt;
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, metadatas.length);
    if (metadatas.length <= 64) {
      for (let i = 0; i < metadatas.length; i++) buf[pos + i] = metadatas[i] as number;
    } else {
      buf.set(metadatas, pos);
    }
    pos += metadatas.length;
    this.length = pos;
    return frameLen;
  }

  private pending = 0;
  private metadataAt = 0;

  private tooLarge(payloadLen: number): never {
    throw new InvalidMetricError("size", payloadLen, `the frame's payload is larger than m3's raw TCP limit of ${this.maxMessageBytes} bytes (rawtcp maxMessageSize): m3 would refuse it and close the connection; split it`);
  }

  /** Appends a counter increment (int64; negative allowed). */
  counter(id: string | Uint8Array, value: number | bigint = 1, policy?: MetricPolicy): number {
    const idLen = this.sizeId(id);
    this.int64(value);
    const lo = this.lo;
    const hi = this.hi;
    const metadatas = untimedMetadata("counter", policy, this.m3Version);
    // Counter{ id = 1, value = 2 (int64 varint, omitted when 0) }
    const valueLen = lo === 0 && hi === 0 ? 0 : 1 + varint64Size(lo, hi);
    const metricLen = 1 + varintSize(idLen) + idLen + valueLen;
    const frameLen = this.untimedFrame(1, metricLen, metadatas);
    let pos = this.writeId(this.pending, 0x0a, id);
    if (valueLen !== 0) {
      this.buffer[pos++] = 0x10;
      writeVarint64(this.buffer, pos, lo, hi);
    }
    return frameLen;
  }

  /** Appends a gauge value (finite). */
  gauge(id: string | Uint8Array, value: number, policy?: MetricPolicy): number {
    return this.gaugeValue(id, value, policy, false);
  }

  private gaugeValue(id: string | Uint8Array, value: number, policy: MetricPolicy | undefined, allowNaN: boolean): number {
    const idLen = this.sizeId(id);
    checkFinite("value", value, allowNaN);
    const metadatas = untimedMetadata("gauge", policy, this.m3Version);
    // Gauge{ id = 1, value = 2 (double, omitted when 0 as in gogo: `if m.Value != 0`) }
    const valueLen = value !== 0 ? 9 : 0;
    const metricLen = 1 + varintSize(idLen) + idLen + valueLen;
    const frameLen = this.untimedFrame(3, metricLen, metadatas);
    const pos = this.writeId(this.pending, 0x0a, id);
    if (valueLen !== 0) {
      this.buffer[pos] = 0x11;
      this.buffer.writeDoubleLE(value, pos + 1);
    }
    return frameLen;
  }

  /** Appends one batch timer: all values in one frame (packed doubles). */
  timer(id: string | Uint8Array, values: readonly number[], policy?: MetricPolicy): number {
    const idLen = this.sizeId(id);
    if (!Array.isArray(values) || values.length === 0) throw new InvalidMetricError("values", values, "a batch timer needs at least one value");
    if (values.length * 8 > this.maxMessageBytes) this.tooLarge(values.length * 8);
    for (let i = 0; i < values.length; i++) checkFinite(`values[${i}]`, values[i]);
    const metadatas = untimedMetadata("timer", policy, this.m3Version);
    // BatchTimer{ id = 1, values = 2 (packed doubles) }
    const packed = values.length * 8;
    const metricLen = 1 + varintSize(idLen) + idLen + 1 + varintSize(packed) + packed;
    const frameLen = this.untimedFrame(2, metricLen, metadatas);
    const buf = this.buffer;
    let pos = this.writeId(this.pending, 0x0a, id);
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, packed);
    for (let i = 0; i < values.length; i++, pos += 8) buf.writeDoubleLE(values[i] as number, pos);
    return frameLen;
  }

  /** Appends a timed metric (TIMED_METRIC_WITH_METADATA: client timestamp, explicit storage policy). */
  timed(metric: Omit<Extract<Metric, { type: "timed" }>, "type">): number {
    const metricType = (METRIC_TYPE as Record<string, number>)[metric.metricType];
    if (metricType === undefined) throw new InvalidMetricError("metricType", metric.metricType, "must be counter, gauge or timer");
    const id = metric.id;
    const idLen = this.sizeId(id);
    if (typeof metric.timeNanos !== "bigint" || metric.timeNanos <= 0n || metric.timeNanos > INT64_MAX) {
      throw new InvalidMetricError("timeNanos", metric.timeNanos, "must be a positive bigint (ns since the epoch)");
    }
    const value = checkFinite("value", metric.value);
    if (typeof metric.storagePolicy !== "string") throw new InvalidMetricError("storagePolicy", metric.storagePolicy, "must be resolution:retention, e.g. 10s:2d (a timed metric needs one, or m3 drops the connection)");
    const version = this.m3Version;
    const kind = metric.metricType;
    const types = metric.aggregationTypes;
    const metadata = cached(`${version}\u0002${kind}\u0002${metric.storagePolicy}\u0002${types === undefined ? "-" : `[${listKey(types)}`}`, () =>
      timedMetadataBytes(kind, metric.storagePolicy, types, version));
    this.uint64(metric.timeNanos);
    const lo = this.lo;
    const hi = this.hi;
    // TimedMetric{ type = 1, id = 2, time_nanos = 3, value = 4 (double, omitted when 0) }
    const valueLen = value !== 0 ? 9 : 0;
    const metricLen = 2 + 1 + varintSize(idLen) + idLen + 1 + varint64Size(lo, hi) + valueLen;
    // TimedMetricWithMetadata{ metric = 1, metadata = 2 }
    const withLen = 1 + varintSize(metricLen) + metricLen + 1 + varintSize(metadata.length) + metadata.length;
    const [frameLen, start] = this.frameHeader(5, 0x32, withLen); // TIMED_METRIC_WITH_METADATA, field 6
    const buf = this.buffer;
    let pos = start;
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, metricLen);
    buf[pos++] = 0x08;
    buf[pos++] = metricType;
    pos = this.writeId(pos, 0x12, id);
    buf[pos++] = 0x18;
    pos = writeVarint64(buf, pos, lo, hi);
    if (valueLen !== 0) {
      buf[pos++] = 0x21;
      buf.writeDoubleLE(value, pos);
      pos += 8;
    }
    buf[pos++] = 0x12;
    pos = writeVarint(buf, pos, metadata.length);
    buf.set(metadata, pos);
    this.length = pos + metadata.length;
    return frameLen;
  }
}

const SHARED: Partial<Record<M3Version, IngestEncoder>> = {};

function shared(options: EncodeOptions | undefined): IngestEncoder {
  const version = m3VersionOf(options?.m3Version);
  return (SHARED[version] ??= new IngestEncoder({ m3Version: version, initialBytes: 4096 }));
}

/** One complete frame: zigzag varint size + payload. Throws {@link InvalidMetricError} for bad input. */
export function encodeFrame(metric: Metric, options?: EncodeOptions): Buffer {
  const encoder = shared(options);
  encoder.reset();
  encoder.append(metric);
  return encoder.take();
}

/** The MetricWithMetadatas payload of one metric (no size prefix). */
export function encodePayload(metric: Metric, options?: EncodeOptions): Buffer {
  const frame = encodeFrame(metric, options);
  let prefix = 0;
  while ((frame[prefix] as number) & 0x80) prefix++;
  return frame.subarray(prefix + 1);
}
