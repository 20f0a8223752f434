import { decodeAck, decodeAggregatedMetric, decodeMessage, encodeAck, FrameReader, formatDuration, frame } from "../../../src/sink/codec";

import { lengthDelimited as lenField, tag as field, varint } from "../protobuf-bytes";

/** AggregatedMetric built by hand from m3's field numbers (metricpb/composite.proto, metric.proto, policypb). */
function handBuiltAggregatedMetric(id: string, timeNanos: bigint, value: number): number[] {
  const f64 = Buffer.alloc(8);
  f64.writeDoubleLE(value);
  const timed = [...lenField(2, [...Buffer.from(id)]), field(3, 0), ...varint(timeNanos), field(4, 1), ...f64];
  const resolution = [field(1, 0), ...varint(10_000_000_000n), field(2, 0), ...varint(1_000_000_000n)];
  const retention = [field(1, 0), ...varint(172_800_000_000_000n)];
  const policy = [...lenField(1, resolution), ...lenField(2, retention)];
  const withPolicy = [...lenField(1, timed), ...lenField(2, policy)];
  return lenField(1, withPolicy);
}

describe("m3msg codec", () => {
  test("decodes a hand-built Message carrying a hand-built AggregatedMetric", () => {
    const value = handBuiltAggregatedMetric("requests", 1_700_000_010_000_000_000n, 42.5);
    const metadata = [field(1, 0), ...varint(7n), field(2, 0), ...varint(123_456n), field(3, 0), ...varint(1_700_000_000_000_000_000n)];
    const message = [...lenField(1, metadata), ...lenField(2, value)];
    const decoded = decodeMessage(Uint8Array.from(message));
    expect(decoded.metadata).toEqual({ shard: 7n, id: 123_456n, sentAtNanos: 1_700_000_000_000_000_000n });
    expect(decodeAggregatedMetric(decoded.value)).toEqual({
      id: "requests",
      timeNanos: 1_700_000_010_000_000_000n,
      value: 42.5,
      storagePolicy: { resolutionNanos: 10_000_000_000n, precisionNanos: 1_000_000_000n, retentionNanos: 172_800_000_000_000n, text: "10s:2d" },
    });
  });

  test("an Ack frame is a 4-byte big-endian length and Ack{metadata} with m3's field numbers", () => {
    const ack = encodeAck([{ shard: 3n, id: 300n, sentAtNanos: 1n }]);
    // Ack{1: Metadata{1: 3, 2: 300, 3: 1}}
    const body = lenField(1, [field(1, 0), 3, field(2, 0), ...varint(300n), field(3, 0), 1]);
    expect([...ack]).toEqual([0, 0, 0, body.length, ...body]);
    expect(decodeAck(ack.subarray(4))).toEqual([{ shard: 3n, id: 300n, sentAtNanos: 1n }]);
  });

  test("the frame reader handles frames split and merged across chunks", () => {
    const frames = [Buffer.from("a"), Buffer.alloc(300, 7), Buffer.from("xyz")].map(frame);
    const stream = Buffer.concat(frames);
    for (const cut of [1, 2, 3, 4, 5, 100, 303, stream.length - 1]) {
      const reader = new FrameReader();
      const got = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      expect(got.map((b) => b.toString("hex"))).toEqual(frames.map((f) => f.subarray(4).toString("hex")));
    }
  });

  test("a frame larger than the maximum is an error naming the sizes", () => {
    const reader = new FrameReader(16);
    expect(() => reader.push(Buffer.from([0, 0, 0, 17]))).toThrow("m3msg frame of 17 bytes exceeds the 16-byte maximum");
  });

  test("durations print like m3's storage policies", () => {
    expect([10_000_000_000n, 60_000_000_000n, 172_800_000_000_000n, 1_500_000_000n].map(formatDuration)).toEqual(["10s", "1m", "2d", "1500ms"]);
  });
});
