/**
 * The placement and election reads of a cluster handle whose nodes this process reaches over
 * the network (Swarm, Kubernetes): the same admin call, the same readiness rule, one place.
 */
import type { M3AdminClient } from "../m3/admin-client";
import type { AggregatorApi } from "../m3/aggregator-api";
import { shardSetsOf } from "../m3/placement";
import type { Placement } from "../m3/types";
import { poll } from "../util/poll";
import type { ClusterNode } from "./handle";
import { describeElection, readElection, type ShardSetElection, waitForElection } from "./readiness";

export abstract class ElectionHandle {
  /** The coordinator's admin API. */
  abstract readonly admin: M3AdminClient;
  /** Aggregator nodes, in instance-id order. */
  abstract readonly nodes: readonly ClusterNode[];
  abstract getClusterId(): string;

  /** The live aggregator placement. */
  async placement(): Promise<Placement> {
    return (await this.admin.getPlacement("m3aggregator")).placement;
  }

  /** Shard sets of the live placement: shardSetId → instance ids. */
  async shardSets(): Promise<Map<number, string[]>> {
    return shardSetsOf(await this.placement());
  }

  private get apis(): Map<string, AggregatorApi> {
    return new Map(this.nodes.map((n) => [n.id, n.api]));
  }

  /** Election state of every shard set, from each node's /status. */
  async election(): Promise<ShardSetElection[]> {
    return readElection(await this.shardSets(), this.apis);
  }

  /** Leader instance id of each shard set (undefined where none or several lead right now). */
  async leaders(): Promise<Map<number, string | undefined>> {
    return new Map((await this.election()).map((s) => [s.shardSetId, s.leader]));
  }

  /** Waits until shard set `shardSetId` has exactly one leader (other than `not`) and resolves with it. */
  async waitForLeader(shardSetId: number, options: { not?: string; timeoutMs?: number } = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    let last: ShardSetElection | undefined;
    return poll(async () => {
      last = (await this.election()).find((s) => s.shardSetId === shardSetId);
      return last?.leader !== undefined && last.leader !== options.not ? last.leader : undefined;
    }, { timeoutMs, what: `a leader of shard set ${shardSetId}`, onTimeout: () => new Error(`shard set ${shardSetId} of cluster ${this.getClusterId()} has no leader${options.not ? ` other than ${options.not}` : ""} after ${timeoutMs} ms: ${describeElection(last === undefined ? [] : [last])}`) });
  }

  /** Every shard set has one leader and only verified followers. */
  async waitForReady(options: { timeoutMs?: number } = {}): Promise<ShardSetElection[]> {
    return waitForElection(await this.shardSets(), this.apis, options.timeoutMs ?? 60_000);
  }
}
