/**
 * The flush times a shard set's leader stores in etcd after each flush (m3's flush times manager,
 * key `_kv/<env>/shardset/<id>/flush`, a ShardSetFlushTimes proto): how far each shard has been
 * flushed, per resolution. A leaving owner is done once they reached its cutoff, the test m3's
 * election manager uses before it stops campaigning (`flushTimesChecker.HasFlushed`).
 * Read through etcd's JSON gateway (`POST /v3/kv/range`), which etcd 3.5 and 3.6 both serve.
 */
import * as path from "node:path";
import * as protobuf from "protobufjs";
import { httpJson } from "../util/http";
import { ENVIRONMENT } from "./placement";

const root = protobuf.loadSync(path.resolve(__dirname, "../../proto/m3-flush-times.proto"));
const ShardSetFlushTimesType = root.lookupType("m3agg.flush.ShardSetFlushTimes");

/** Flush times of one shard: resolution (ns) → flushed up to (ns). */
export interface ShardFlushTimes {
  standardByResolution: Map<bigint, bigint>;
  timedByResolution: Map<bigint, bigint>;
  /** resolution (ns) → number of forwardings → flushed up to (ns). */
  forwardedByResolution: Map<bigint, Map<number, bigint>>;
  tombstoned: boolean;
}

/** Flush times of a shard set, by shard id. */
export type ShardSetFlushTimes = Map<number, ShardFlushTimes>;

const big = (value: unknown): bigint => (value === undefined || value === null ? 0n : BigInt(String(value)));

function bigMap(object: Record<string, unknown> | undefined): Map<bigint, bigint> {
  return new Map(Object.entries(object ?? {}).map(([k, v]) => [BigInt(k), big(v)]));
}

/** Decodes the stored value (the proto's bytes). */
export function decodeShardSetFlushTimes(bytes: Uint8Array): ShardSetFlushTimes {
  const message = ShardSetFlushTimesType.toObject(ShardSetFlushTimesType.decode(bytes), { longs: String, defaults: true }) as {
    byShard?: Record<string, {
      standardByResolution?: Record<string, string>;
      timedByResolution?: Record<string, string>;
      forwardedByResolution?: Record<string, { byNumForwardedTimes?: Record<string, string> }>;
      tombstoned?: boolean;
    }>;
  };
  const result: ShardSetFlushTimes = new Map();
  for (const [shard, times] of Object.entries(message.byShard ?? {})) {
    result.set(Number(shard), {
      standardByResolution: bigMap(times.standardByResolution),
      timedByResolution: bigMap(times.timedByResolution),
      forwardedByResolution: new Map(Object.entries(times.forwardedByResolution ?? {}).map(([r, f]) =>
        [BigInt(r), new Map(Object.entries(f.byNumForwardedTimes ?? {}).map(([n, t]) => [Number(n), big(t)]))])),
      tombstoned: times.tombstoned === true,
    });
  }
  return result;
}

/**
 * True when every given shard has flush times and all of them (standard, timed, forwarded) reached
 * `targetNanos`: m3's definition of "flushed until the cutoff". A shard without flush times has not.
 */
export function hasFlushedThrough(flushTimes: ShardSetFlushTimes | undefined, shardIds: Iterable<number>, targetNanos: bigint): boolean {
  if (flushTimes === undefined) return false;
  for (const id of shardIds) {
    const times = flushTimes.get(id);
    if (times === undefined) return false;
    for (const t of times.standardByResolution.values()) if (t < targetNanos) return false;
    for (const t of times.timedByResolution.values()) if (t < targetNanos) return false;
    for (const byCount of times.forwardedByResolution.values()) for (const t of byCount.values()) if (t < targetNanos) return false;
  }
  return true;
}

/**
 * The given shards split by their flush times against `targetNanos`: `behind` have flush times of which
 * one is before it, `absent` have none (a shard whose lists never held data has no flush times: m3
 * records them per list, and lists are created by writes).
 */
export function unflushedShards(flushTimes: ShardSetFlushTimes | undefined, shardIds: Iterable<number>, targetNanos: bigint): { behind: number[]; absent: number[] } {
  const behind: number[] = [];
  const absent: number[] = [];
  for (const id of shardIds) {
    if (flushTimes?.get(id) === undefined) absent.push(id);
    else if (!hasFlushedThrough(flushTimes, [id], targetNanos)) behind.push(id);
  }
  return { behind, absent };
}

/** The lowest flushed-up-to time over the given shards (ns), or undefined when a shard has none. */
export function flushedUpToNanos(flushTimes: ShardSetFlushTimes | undefined, shardIds: Iterable<number>): bigint | undefined {
  let lowest: bigint | undefined;
  for (const id of shardIds) {
    const times = flushTimes?.get(id);
    if (times === undefined) return undefined;
    const all = [...times.standardByResolution.values(), ...times.timedByResolution.values()];
    for (const t of all) if (lowest === undefined || t < lowest) lowest = t;
  }
  return lowest;
}

/** The etcd key of a shard set's flush times (fixture config: `flushTimesKeyFmt: shardset/%d/flush`, kv namespace `_kv`). */
export function flushTimesKey(shardSetId: number, environment = ENVIRONMENT): string {
  return `_kv/${environment}/shardset/${shardSetId}/flush`;
}

/** Reads a shard set's flush times from etcd (`http://host:port`); undefined when the key does not exist yet. */
export async function readFlushTimes(etcdEndpoint: string, shardSetId: number): Promise<ShardSetFlushTimes | undefined> {
  const key = Buffer.from(flushTimesKey(shardSetId)).toString("base64");
  const response = await httpJson<{ kvs?: Array<{ value?: string }> }>("POST", `${etcdEndpoint}/v3/kv/range`, { body: { key }, timeoutMs: 5_000 });
  const value = response.kvs?.[0]?.value;
  return value === undefined ? undefined : decodeShardSetFlushTimes(Buffer.from(value, "base64"));
}
