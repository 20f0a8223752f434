/**
 * Shard routing like m3's Go client: shard = murmur3(id) % numShards, and a
 * metric goes to EVERY replica owning that shard (leader and followers), so a
 * failover loses nothing.
 */
import type { Placement } from "../m3/types";
import { InvalidMetricError } from "./policy";
import { idBytes } from "./encoder";
import { murmur3 } from "./murmur3";

/** Routes a metric id to its shard and to the placement instances that own that shard (m3's murmur3 shard hash). */
export class ShardRouter {
  private readonly byShard: string[][];
  private readonly endpoints = new Map<string, string>();

  constructor(readonly placement: Placement) {
    if (!(placement.numShards > 0)) throw new Error(`placement has numShards=${placement.numShards}: not a sharded aggregator placement`);
    this.byShard = Array.from({ length: placement.numShards }, () => []);
    for (const instance of Object.values(placement.instances)) {
      this.endpoints.set(instance.id, instance.endpoint);
      for (const shard of instance.shards) this.byShard[shard.id]?.push(instance.id);
    }
  }

  /** The shard of a metric id. */
  shardOf(id: string | Uint8Array): number {
    return murmur3(idBytes(id)) % this.placement.numShards;
  }

  /** Instance ids owning the id's shard (all replicas). */
  replicasOf(id: string | Uint8Array): string[] {
    return this.replicasOfShard(this.shardOf(id));
  }

  /** Instance ids owning a shard (all replicas). */
  replicasOfShard(shard: number): string[] {
    return this.byShard[shard] ?? [];
  }

  /** The raw TCP endpoint of an instance; throws naming the known instances. */
  endpointOf(instanceId: string): string {
    const endpoint = this.endpoints.get(instanceId);
    if (endpoint === undefined) {
      throw new InvalidMetricError("node", instanceId, `is not in the placement (instances: ${[...this.endpoints.keys()].join(", ")})`);
    }
    return endpoint;
  }

  /** Every instance id. */
  instances(): string[] {
    return [...this.endpoints.keys()];
  }
}
