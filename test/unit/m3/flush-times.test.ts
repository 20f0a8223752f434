import { varint } from "../protobuf-bytes";
import { decodeShardSetFlushTimes, flushedUpToNanos, flushTimesKey, hasFlushedThrough, unflushedShards } from "../../../src/m3/flush-times";

// Hand-encoded from the field numbers of m3's ShardSetFlushTimes (src/aggregator/generated/proto/flush/flush.proto),
// not with our schema: by_shard = 1 (map<uint32, ShardFlushTimes>), standard_by_resolution = 1 (map<int64,int64>),
// tombstoned = 2, timed_by_resolution = 4. Map entries are messages {key = 1, value = 2}.
const field = (num: number, wire: number) => varint(BigInt((num << 3) | wire));
const bytesField = (num: number, body: number[]) => [...field(num, 2), ...varint(BigInt(body.length)), ...body];
const entry = (key: bigint, value: number[] | bigint) => [...field(1, 0), ...varint(key), ...(typeof value === "bigint" ? [...field(2, 0), ...varint(value)] : bytesField(2, value))];

const RES = 10_000_000_000n;
const shardTimes = (standard: bigint, timed?: bigint) => [
  ...bytesField(1, entry(RES, standard)),
  ...(timed === undefined ? [] : bytesField(4, entry(RES, timed))),
];
const bytes = Uint8Array.from([
  ...bytesField(1, entry(3n, shardTimes(1_795_000_020_000_000_000n))),
  ...bytesField(1, entry(7n, shardTimes(1_795_000_030_000_000_000n, 1_795_000_010_000_000_000n))),
]);

test("decodes flush times per shard and resolution", () => {
  const times = decodeShardSetFlushTimes(bytes);
  expect([...times.keys()].sort()).toEqual([3, 7]);
  expect(times.get(3)?.standardByResolution).toEqual(new Map([[RES, 1_795_000_020_000_000_000n]]));
  expect(times.get(7)?.timedByResolution).toEqual(new Map([[RES, 1_795_000_010_000_000_000n]]));
  expect(times.get(3)?.tombstoned).toBe(false);
});

test("flushed through a target: every shard present and every resolution (standard and timed) at or past it", () => {
  const times = decodeShardSetFlushTimes(bytes);
  expect(hasFlushedThrough(times, [3], 1_795_000_020_000_000_000n)).toBe(true);
  expect(hasFlushedThrough(times, [3], 1_795_000_020_000_000_001n)).toBe(false);
  expect(hasFlushedThrough(times, [7], 1_795_000_020_000_000_000n)).toBe(false); // its timed list lags
  expect(hasFlushedThrough(times, [3, 5], 0n)).toBe(false); // no flush times for shard 5
  expect(hasFlushedThrough(undefined, [3], 0n)).toBe(false);
  expect(flushedUpToNanos(times, [3, 7])).toBe(1_795_000_010_000_000_000n);
});

test("the etcd key of m3's flush times manager (kv namespace _kv, environment, flushTimesKeyFmt)", () => {
  expect(flushTimesKey(2)).toBe("_kv/default_env/shardset/2/flush");
});

test("unflushed shards: behind (flush times short of the target) apart from absent (never held data)", () => {
  const times = decodeShardSetFlushTimes(bytes);
  expect(unflushedShards(times, [3, 7, 9], 1_795_000_020_000_000_000n)).toEqual({ behind: [7], absent: [9] });
  expect(unflushedShards(undefined, [3], 0n)).toEqual({ behind: [], absent: [3] });
});
