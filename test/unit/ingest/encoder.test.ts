import { encodeFrame, encodePayload, IngestEncoder, type Metric, zigzagVarint } from "../../../src/ingest/encoder";
import { murmur3 } from "../../../src/ingest/murmur3";
import { aggregationId, InvalidMetricError, parseStoragePolicy } from "../../../src/ingest/policy";

import { lengthDelimited as len } from "../protobuf-bytes";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

// StagedMetadatas{[StagedMetadata{metadata: Metadata{pipelines: [PipelineMetadata{aggregation_id: {}, pipeline: {}}]}}]}:
// the default metadata, built from m3's field numbers (metadata.proto: StagedMetadata.metadata = 3, …).
const DEFAULT_METADATAS = len(1, len(3, len(1, [...len(1, []), ...len(3, [])])));
// v1.6.0 adds PipelineMetadata.routing_policy = 6, written even when empty.
const DEFAULT_METADATAS_V16 = len(1, len(3, len(1, [...len(1, []), ...len(3, []), ...len(6, [])])));

describe("frame size", () => {
  test.each([[27, "36"], [63, "7e"], [64, "8001"], [100, "c801"], [11, "16"]])("%d → %s (zigzag varint, as Go's binary.PutVarint)", (size, bytes) => {
    expect(zigzagVarint(size).toString("hex")).toBe(bytes);
  });
});

describe("murmur3 (m3's shard hash)", () => {
  test.each([["hello", 0x248bfa47], ["hello, world", 0x149bbb7f], ["", 0], ["foo", 0xf6a5c420], ["metric.test", 0xd3d86534]])("%j", (text, hash) => {
    expect(murmur3(Buffer.from(text))).toBe(hash);
  });
  // A 2-byte tail (length % 4 = 2), alone and after a block; the last with bytes ≥ 0x80 in the tail. Expected values from
  // m3's own hash (github.com/m3db/stackmurmur3/v2 v2.0.2 murmur3.Sum32, used by m3 v1.5.0 src/aggregator/sharding/hash.go),
  // run with `go run`, not from the code under test.
  test.each([
    ["ab", Buffer.from("ab"), 0x9bbfd75f],
    ["abcdef", Buffer.from("abcdef"), 0x6181c085],
    ["cpu.usage.total.ab", Buffer.from("cpu.usage.total.ab"), 0xb7035f97],
    ["bytes ff fe", Buffer.from([0xff, 0xfe]), 0x96c86850],
  ])("2-byte tail: %s", (_name, bytes, hash) => {
    expect(murmur3(bytes)).toBe(hash);
  });
  test("shards of the documented ids", () => {
    expect(murmur3(Buffer.from("foo")) % 64).toBe(32);
    expect(murmur3(Buffer.from("metric.test")) % 64).toBe(52);
  });
});

describe("encoder", () => {
  test("counter foo=1 with default metadata at v1.6.0 is the documented Go frame (routing_policy `32 00` included)", () => {
    const counter = [...len(1, [...Buffer.from("foo")]), 0x10, 0x01];
    const payload = [0x08, 0x01, ...len(2, [...len(1, counter), ...len(2, DEFAULT_METADATAS_V16)])];
    const expected = Buffer.from([payload.length << 1, ...payload]);
    expect(encodeFrame({ type: "counter", id: "foo", value: 1 })).toEqual(expected); // v1.6.0 is the default
    expect(expected.toString("hex")).toBe("36080112170a070a03666f6f1001120c0a0a1a080a060a001a003200");
  });

  test("counter foo=1 at v1.5.0: no routing_policy, 25-byte payload", () => {
    const counter = [...len(1, [...Buffer.from("foo")]), 0x10, 0x01];
    const payload = [0x08, 0x01, ...len(2, [...len(1, counter), ...len(2, DEFAULT_METADATAS)])];
    expect(encodeFrame({ type: "counter", id: "foo", value: 1 }, { m3Version: "v1.5.0" })).toEqual(Buffer.from([payload.length << 1, ...payload]));
  });

  test("gauge 42.5 with Last + 10s:2d: the documented Go frame at v1.6.0, minus `32 00` and its lengths at v1.5.0", () => {
    const documented = hex("7c 08 03 22 3a 0a 0e 0a 03 66 6f 6f 11 00 00 00 00 00 40 45 40 12 28 0a 26 1a 24 0a 22 0a 02 08 02 12 18 0a 0c 08 80 c8 af a0 25 10 80 94 eb dc 03 12 08 08 80 80 f8 94 92 a5 27 1a 00 32 00");
    const gauge = { type: "gauge", id: "foo", value: 42.5, aggregationTypes: ["last"], storagePolicies: ["10s:2d"] } as const;
    expect(encodeFrame({ ...gauge, aggregationTypes: ["last"], storagePolicies: ["10s:2d"] }, { m3Version: "v1.6.0" })).toEqual(documented);
    const ours = encodeFrame({ ...gauge, aggregationTypes: ["last"], storagePolicies: ["10s:2d"] }, { m3Version: "v1.5.0" });
    expect(ours.toString("hex")).toBe("78080322380a0e0a03666f6f11000000000040454012260a241a220a200a02080212180a0c0880c8afa025108094ebdc031208088080f89492a5271a00");
  });

  test("an unknown m3Version is rejected, naming the versions", () => {
    expect(() => encodeFrame({ type: "counter", id: "x", value: 1 }, { m3Version: "v1.7.0" as never })).toThrow('invalid metric m3Version="v1.7.0": must be one of v1.6.0, v1.5.0');
  });

  test("negative counter increments are plain 10-byte varints, not zigzag", () => {
    const frame = encodeFrame({ type: "counter", id: "x", value: -1 });
    expect(frame.toString("hex")).toContain("10ffffffffffffffffff01");
  });

  test("batch timer values are packed little-endian doubles", () => {
    const frame = encodeFrame({ type: "timer", id: "t", values: [1, 2] });
    const packed = Buffer.alloc(16);
    packed.writeDoubleLE(1, 0);
    packed.writeDoubleLE(2, 8);
    expect(frame.toString("hex")).toContain(`1210${packed.toString("hex")}`);
    expect(frame[1]).toBe(0x08);
    expect(frame[2]).toBe(0x02); // BATCH_TIMER_WITH_METADATAS
  });

  test("timed metric: type 5 with the metric type and an explicit storage policy", () => {
    const frame = encodeFrame({ type: "timed", metricType: "gauge", id: "g", timeNanos: 1_700_000_000_000_000_000n, value: 1, storagePolicy: "1m:40d", aggregationTypes: ["max"] }, { m3Version: "v1.5.0" });
    expect(frame.subarray(0, 2).toString("hex")).toBe("8201"); // 65-byte payload: a two-byte size
    expect([frame[2], frame[3]]).toEqual([0x08, 0x05]);
    expect(frame.toString("hex")).toContain(Buffer.from([0x08, 0x03]).toString("hex")); // TimedMetric.type = GAUGE
    expect(frame.toString("hex")).toContain(Buffer.from([0x0a, 0x02, 0x08, 0x08]).toString("hex")); // AggregationID{id: 1<<3}
  });

  test.each([
    [{ type: "counter", id: "", value: 1 }, "id", /must not be empty/],
    [{ type: "counter", id: "c", value: 1.5 }, "value", /whole number/],
    [{ type: "gauge", id: "g", value: NaN }, "value", /finite number/],
    [{ type: "timer", id: "t", values: [] }, "values", /at least one value/],
    [{ type: "counter", id: "c", value: 1, aggregationTypes: ["last"] }, "aggregationTypes", /not valid for a counter/],
    [{ type: "counter", id: "c", value: 1, aggregationTypes: ["p42"] }, "aggregationTypes", /is not an aggregation type/],
    [{ type: "gauge", id: "g", value: 1, storagePolicies: ["10x:2d"] }, "storagePolicies[0]", /unit/],
    [{ type: "timed", metricType: "gauge", id: "g", timeNanos: 0n, value: 1, storagePolicy: "10s:2d" }, "timeNanos", /positive bigint/],
  ])("%j is rejected on %s", (metric, field, rule) => {
    try {
      encodeFrame(metric as never);
      throw new Error("not rejected");
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidMetricError);
      expect((error as InvalidMetricError).field).toBe(field);
      expect((error as Error).message).toMatch(rule);
    }
  });
});

describe("policies", () => {
  test("10s:2d in nanoseconds; precision is the largest unit dividing the window", () => {
    expect(parseStoragePolicy("10s:2d")).toEqual({ windowNanos: 10_000_000_000n, precisionNanos: 1_000_000_000n, retentionNanos: 172_800_000_000_000n });
    expect(parseStoragePolicy("1m:40d").precisionNanos).toBe(60_000_000_000n);
    expect(parseStoragePolicy("1500ms:1h").precisionNanos).toBe(1_000_000n);
  });
  test("aggregation ids are bit sets", () => {
    expect(aggregationId("counter", ["sum"])).toBe(128n);
    expect(aggregationId("gauge", ["last"])).toBe(2n);
    expect(aggregationId("timer", ["min", "max"])).toBe(12n);
    expect(aggregationId("timer", ["p99"])).toBe(1n << 20n);
  });
});

describe("no frame looks like a TLS handshake (m3's permissive mode peeks for 0x16 = zigzag(11))", () => {
  // The smallest frame of each kind: 1-byte id, zero values (omitted fields), the shortest policy.
  // Every other metric of a kind only adds bytes to these.
  const smallest: Metric[] = [
    { type: "counter", id: "a", value: 0 },
    { type: "counter", id: Uint8Array.of(0), value: 0 },
    { type: "gauge", id: "a", value: 0 },
    { type: "timer", id: "a", values: [0] },
    { type: "counter", id: "a", value: 0, storagePolicies: [] },
    ...(["counter", "gauge", "timer"] as const).map((metricType): Metric => ({ type: "timed", metricType, id: "a", timeNanos: 1n, value: 0, storagePolicy: "1ns:1ns" })),
  ];

  test.each(["v1.5.0", "v1.6.0"] as const)("%s: the smallest payload of every kind is > 11 bytes", (m3Version) => {
    const sizes = smallest.map((metric) => encodePayload(metric, { m3Version }).length);
    expect(Math.min(...sizes)).toBeGreaterThan(11);
    expect(Math.min(...sizes)).toBe(m3Version === "v1.5.0" ? 21 : 23); // the counter: 08 01 12 len [0a 03 0a 01 61 | 12 len metadatas]
  });

  test("2,000 random metrics: no frame starts with 0x16", () => {
    let seed = 42;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 2_000; i++) {
      const id = "x".repeat(1 + Math.floor(random() * 20));
      const kinds: Metric[] = [
        { type: "counter", id, value: Math.floor(random() * 1000) - 500 },
        { type: "gauge", id, value: random() < 0.5 ? 0 : random() },
        { type: "timer", id, values: [random()] },
      ];
      for (const metric of kinds) {
        for (const m3Version of ["v1.5.0", "v1.6.0"] as const) expect(encodeFrame(metric, { m3Version })[0]).not.toBe(0x16);
      }
    }
  });
});

describe("IngestEncoder", () => {
  test("appends frames back to back, growing its buffer (expected bytes from field numbers, not from our encoder)", () => {
    const encoder = new IngestEncoder({ initialBytes: 8, m3Version: "v1.5.0" });
    encoder.counter("a", 1);
    encoder.gauge("b", 2.5);
    const frame = (type: number, field: number, inner: number[]) => {
      const payload = [0x08, type, ...len(field, [...len(1, inner), ...len(2, DEFAULT_METADATAS)])];
      return [payload.length << 1, ...payload];
    };
    const double = Buffer.alloc(8);
    double.writeDoubleLE(2.5);
    expect([...encoder.take()]).toEqual([
      ...frame(1, 2, [...len(1, [0x61]), 0x10, 0x01]), // MetricWithMetadatas.type 1 = counter, field 2; Counter{id = 1, value = 2}
      ...frame(3, 4, [...len(1, [0x62]), 0x11, ...double]), // type 3 = gauge, field 4; Gauge{id = 1, value = 2 (fixed64)}
    ]);
    expect(encoder.length).toBe(0);
  });

  test("a rejected metric leaves what was written untouched", () => {
    const encoder = new IngestEncoder({ m3Version: "v1.5.0" });
    encoder.counter("a", 1);
    const before = Buffer.from(encoder.buffer.subarray(0, encoder.length));
    expect(() => encoder.counter("b", 1.5)).toThrow(InvalidMetricError);
    expect(() => encoder.append({ type: "gauge", id: "g", value: 1, storagePolicies: ["bad"] })).toThrow(InvalidMetricError);
    expect(() => encoder.timer("t", [1, Infinity])).toThrow("invalid metric values[1]=Infinity");
    expect(Buffer.from(encoder.buffer.subarray(0, encoder.length))).toEqual(before);
  });

  test("counter values: safe integers and bigints in int64, nothing else", () => {
    const encoder = new IngestEncoder();
    expect(() => encoder.counter("c", 2 ** 53)).toThrow(/whole number \(int64\)/);
    expect(() => encoder.counter("c", 2n ** 63n)).toThrow(/whole number \(int64\)/);
    expect(() => encoder.counter("c", "1" as never)).toThrow(/whole number \(int64\)/);
    // -(2^53 - 1) as a number: the 10-byte two's complement varint, written out (not compared with our bigint path)
    const frame = encodeFrame({ type: "counter", id: "c", value: -(2 ** 53 - 1) }, { m3Version: "v1.5.0" });
    expect(frame.includes(hex("10 81 80 80 80 80 80 80 f0 ff 01"))).toBe(true);
  });
});
