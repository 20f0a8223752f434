/**
 * m3msg framing and payloads as the sink sees them: 4-byte big-endian length
 * frames carrying msgpb.Message (producer → consumer) and msgpb.Ack
 * (consumer → producer); Message.value is a metricpb.AggregatedMetric.
 * Schema: proto/m3msg-aggregated.proto, loaded with protobufjs.
 */
import * as path from "node:path";
import * as protobuf from "protobufjs";
import { UNITS_LARGEST_FIRST } from "../model/time";

const root = protobuf.loadSync(path.resolve(__dirname, "../../proto/m3msg-aggregated.proto"));
const MessageType = root.lookupType("m3agg.sink.Message");
const AckType = root.lookupType("m3agg.sink.Ack");
const AggregatedMetricType = root.lookupType("m3agg.sink.AggregatedMetric");

/** m3's decoder default: larger frames are an error. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** msgpb.Metadata: identifies a message for its ack. uint64s as bigint. */
export interface MsgMetadata {
  shard: bigint;
  id: bigint;
  sentAtNanos: bigint;
}

/** One flushed datapoint. */
export interface AggregatedDatapoint {
  /** Output id (prefix + raw id + aggregation suffix, as configured), UTF-8. */
  id: string;
  /** End of the aggregation window, ns since the epoch. */
  timeNanos: bigint;
  value: number;
  storagePolicy: { resolutionNanos: bigint; precisionNanos: bigint; retentionNanos: bigint; text: string };
}

const long = (value: unknown): bigint => (value === undefined || value === null ? 0n : BigInt(String(value)));


/** A duration in ns as m3 writes it in policies: the largest unit that divides it ("10s", "2d"). */
export function formatDuration(nanos: bigint): string {
  for (const [unit, suffix] of UNITS_LARGEST_FIRST) if (nanos !== 0n && nanos % unit === 0n) return `${nanos / unit}${suffix}`;
  return `${nanos}ns`;
}

/** Reads 4-byte big-endian length frames from a byte stream split anywhere. */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Adds bytes; returns every frame now complete. Throws on a frame larger than the maximum. */
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Buffer[] = [];
    while (this.buffer.length >= 4) {
      const size = this.buffer.readUInt32BE(0);
      if (size > this.maxFrameBytes) throw new Error(`m3msg frame of ${size} bytes exceeds the ${this.maxFrameBytes}-byte maximum`);
      if (this.buffer.length < 4 + size) break;
      frames.push(this.buffer.subarray(4, 4 + size));
      this.buffer = this.buffer.subarray(4 + size);
    }
    return frames;
  }
}

/** Frames a payload: 4-byte big-endian length, then the bytes. */
export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

/** Decodes one msgpb.Message frame body. */
export function decodeMessage(body: Uint8Array): { metadata: MsgMetadata; value: Uint8Array } {
  const message = MessageType.toObject(MessageType.decode(body), { longs: String, bytes: Buffer }) as {
    metadata?: { shard?: string; id?: string; sentAtNanos?: string };
    value?: Buffer;
  };
  return {
    metadata: { shard: long(message.metadata?.shard), id: long(message.metadata?.id), sentAtNanos: long(message.metadata?.sentAtNanos) },
    value: message.value ?? Buffer.alloc(0),
  };
}

/** Encodes one msgpb.Message (used by tests and tools acting as a producer). */
export function encodeMessage(metadata: MsgMetadata, value: Uint8Array): Buffer {
  const message = MessageType.fromObject({
    metadata: { shard: metadata.shard.toString(), id: metadata.id.toString(), sentAtNanos: metadata.sentAtNanos.toString() },
    value,
  });
  return frame(MessageType.encode(message).finish());
}

/** An Ack frame for these messages (m3 matches acks by shard and id). */
export function encodeAck(metadatas: MsgMetadata[]): Buffer {
  const ack = AckType.fromObject({
    metadata: metadatas.map((m) => ({ shard: m.shard.toString(), id: m.id.toString(), sentAtNanos: m.sentAtNanos.toString() })),
  });
  return frame(AckType.encode(ack).finish());
}

/** Decodes an Ack frame body (tests, tools). */
export function decodeAck(body: Uint8Array): MsgMetadata[] {
  const ack = AckType.toObject(AckType.decode(body), { longs: String }) as { metadata?: Array<{ shard?: string; id?: string; sentAtNanos?: string }> };
  return (ack.metadata ?? []).map((m) => ({ shard: long(m.shard), id: long(m.id), sentAtNanos: long(m.sentAtNanos) }));
}

/** Decodes Message.value: a metricpb.AggregatedMetric. */
export function decodeAggregatedMetric(value: Uint8Array): AggregatedDatapoint {
  const decoded = AggregatedMetricType.toObject(AggregatedMetricType.decode(value), { longs: String, bytes: Buffer }) as {
    metric?: {
      timedMetric?: { id?: Buffer; timeNanos?: string; value?: number };
      storagePolicy?: { resolution?: { windowSize?: string; precision?: string }; retention?: { period?: string } };
    };
  };
  const timed = decoded.metric?.timedMetric;
  const policy = decoded.metric?.storagePolicy;
  const resolutionNanos = long(policy?.resolution?.windowSize);
  const retentionNanos = long(policy?.retention?.period);
  return {
    id: Buffer.from(timed?.id ?? []).toString("utf8"), // bytes may come back as a plain Uint8Array
    timeNanos: long(timed?.timeNanos),
    value: timed?.value ?? 0,
    storagePolicy: {
      resolutionNanos,
      precisionNanos: long(policy?.resolution?.precision),
      retentionNanos,
      text: `${formatDuration(resolutionNanos)}:${formatDuration(retentionNanos)}`,
    },
  };
}

/** Encodes an AggregatedMetric (tests, tools acting as a producer). */
export function encodeAggregatedMetric(point: { id: string; timeNanos: bigint; value: number; resolutionNanos: bigint; retentionNanos: bigint }): Buffer {
  const message = AggregatedMetricType.fromObject({
    metric: {
      timedMetric: { id: Buffer.from(point.id), timeNanos: point.timeNanos.toString(), value: point.value },
      storagePolicy: {
        resolution: { windowSize: point.resolutionNanos.toString(), precision: point.resolutionNanos.toString() },
        retention: { period: point.retentionNanos.toString() },
      },
    },
  });
  return Buffer.from(AggregatedMetricType.encode(message).finish());
}
