/**
 * Shard routing like m3's Go client (`src/aggregator/client/tcp_client.go`):
 * shard = murmur3(id) % numShards, and a metric goes to EVERY instance that
 * owns that shard (leader and followers; old and new owner during a move),
 * but only while now is in `[cutover − warmup, cutoff + linger]` of that
 * instance's copy of the shard (m3's defaults: 10 min warmup, 1 h linger;
 * cutover "0" = since forever, cutoff "0" = never).
 */
import type { Placement } from "../m3/types";
import { InvalidMetricError } from "./policy";
import { idBytes } from "./encoder";
import { murmur3 } from "./murmur3";

/** m3's `defaultShardCutoverWarmupDuration` (aggregator/client/options.go). */
export const DEFAULT_SHARD_CUTOVER_WARMUP_MS = 10 * 60_000;
/** m3's `defaultShardCutoffLingerDuration`. */
export const DEFAULT_SHARD_CUTOFF_LINGER_MS = 60 * 60_000;

/** One instance's copy of a shard and when the client writes to it (ms since the epoch, ±Infinity for open ends). */
export interface ShardOwner {
  instanceId: string;
  /** cutover − warmup. */
  fromMs: number;
  /** cutoff + linger. */
  untilMs: number;
}

export interface RouterWindows {
  shardCutoverWarmupMs?: number;
  shardCutoffLingerMs?: number;
}

const nanosToMs = (text: string | undefined, zero: number): number => {
  if (text === undefined || text === "" || text === "0") return zero;
  return Number(BigInt(text) / 1_000_000n);
};

/** Routes a metric id to its shard and to the placement instances that own that shard (m3's murmur3 shard hash). */
export class ShardRouter {
  private readonly byShard: string[][];
  private readonly owners: ShardOwner[][];
  private readonly endpoints = new Map<string, string>();

  constructor(readonly placement: Placement, windows: RouterWindows = {}) {
    if (!(placement.numShards > 0)) throw new Error(`placement has numShards=${placement.numShards}: not a sharded aggregator placement`);
    const warmup = windows.shardCutoverWarmupMs ?? DEFAULT_SHARD_CUTOVER_WARMUP_MS;
    const linger = windows.shardCutoffLingerMs ?? DEFAULT_SHARD_CUTOFF_LINGER_MS;
    this.byShard = Array.from({ length: placement.numShards }, () => []);
    this.owners = Array.from({ length: placement.numShards }, () => []);
    for (const instance of Object.values(placement.instances).sort((a, b) => a.id.localeCompare(b.id))) {
      this.endpoints.set(instance.id, instance.endpoint);
      for (const shard of instance.shards) {
        this.byShard[shard.id]?.push(instance.id);
        this.owners[shard.id]?.push({
          instanceId: instance.id,
          fromMs: nanosToMs(shard.cutoverNanos, -Infinity) - warmup,
          untilMs: nanosToMs(shard.cutoffNanos, Infinity) + linger,
        });
      }
    }
  }

  /** The shard of a metric id. */
  shardOf(id: string | Uint8Array): number {
    return murmur3(idBytes(id)) % this.placement.numShards;
  }

  /** Instance ids owning the id's shard (all replicas, whatever their cutover and cutoff). */
  replicasOf(id: string | Uint8Array): string[] {
    return this.replicasOfShard(this.shardOf(id));
  }

  /** Instance ids owning a shard (all replicas, whatever their cutover and cutoff). */
  replicasOfShard(shard: number): string[] {
    return this.byShard[shard] ?? [];
  }

  /** Instance ids a frame of this shard goes to at `nowMs`: owners whose window contains it. */
  writersOfShard(shard: number, nowMs = Date.now()): string[] {
    return (this.owners[shard] ?? []).filter((o) => nowMs >= o.fromMs && nowMs <= o.untilMs).map((o) => o.instanceId);
  }

  /** Every owner of a shard with its write window. */
  ownersOfShard(shard: number): ShardOwner[] {
    return [...(this.owners[shard] ?? [])];
  }

  /** The first time after `nowMs` at which some shard's set of writers changes (Infinity: never). */
  nextChangeMs(nowMs = Date.now()): number {
    let next = Infinity;
    for (const list of this.owners) {
      for (const o of list) {
        if (o.fromMs > nowMs && o.fromMs < next) next = o.fromMs;
        if (o.untilMs >= nowMs && o.untilMs + 1 < next) next = o.untilMs + 1;
      }
    }
    return next;
  }

  /** The raw TCP endpoint of an instance; throws naming the known instances. */
  endpointOf(instanceId: string): string {
    const endpoint = this.endpoints.get(instanceId);
    if (endpoint === undefined) {
      throw new InvalidMetricError("node", instanceId, `is not in the placement (instances: ${[...this.endpoints.keys()].join(", ")})`);
    }
    return endpoint;
  }

  /** Whether the placement has this instance. */
  has(instanceId: string): boolean {
    return this.endpoints.has(instanceId);
  }

  /** Every instance id. */
  instances(): string[] {
    return [...this.endpoints.keys()];
  }
}
