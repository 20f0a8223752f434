/**
 * What every started cluster offers, whatever runs it (loopback containers, a Docker Swarm stack,
 * a Kubernetes namespace): the node APIs, the placement and its election, the dial map, the sink
 * and stop(). Code written against these interfaces (tests, the load harness) runs on any target.
 */
import type { AggregatorApi } from "../m3/aggregator-api";
import type { Placement } from "../m3/types";
import type { M3Version } from "../model/versions";
import type { M3MsgSink } from "../sink/sink";
import type { ShardSetElection } from "./readiness";

/** One aggregator node, as this process reaches it. */
export interface ClusterNode {
  /** Instance id = host id = placement instance id, e.g. `m3aggregator01`. */
  readonly id: string;
  /** Client of the node's HTTP API (health, status, resign). */
  readonly api: AggregatorApi;
  /** The node's raw TCP endpoint as the placement names it. */
  getTcpEndpoint(): string;
  /** `host:port` where this process reaches the raw TCP endpoint (the same as the placement's on loopback). */
  getDialAddress(): string;
  /** `http://host:port` of the node's HTTP API, as this process reaches it. */
  getHttpUrl(): string;
}

/** A started cluster on any target. */
export interface StartedCluster {
  /** Cluster id: label / namespace / stack name of everything the cluster runs. */
  getClusterId(): string;
  /** The m3 release the cluster runs. */
  getM3Version(): M3Version;
  /** Aggregator nodes now, in instance-id order. */
  readonly nodes: readonly ClusterNode[];
  /** A node by 0-based index or instance id; throws naming the known ids otherwise. */
  node(which: number | string): ClusterNode;
  /** The dial map: where this process reaches a placement endpoint (unknown endpoints as they are). */
  dialAddress(endpoint: string): string;
  /** The in-process m3msg consumer receiving what the leaders flush (backend "sink"); throws otherwise. */
  getSink(): M3MsgSink;
  /** The live aggregator placement. */
  placement(): Promise<Placement>;
  /** Shard sets of the live placement: shardSetId → instance ids. */
  shardSets(): Promise<Map<number, string[]>>;
  /** Election state of every shard set. */
  election(): Promise<ShardSetElection[]>;
  /** Leader instance id of each shard set (undefined where none or several lead right now). */
  leaders(): Promise<Map<number, string | undefined>>;
  /** Waits until shard set `shardSetId` has one leader (other than `not`) and resolves with it. */
  waitForLeader(shardSetId: number, options?: { not?: string; timeoutMs?: number }): Promise<string>;
  /** Waits until every shard set has one leader and only verified followers. */
  waitForReady(options?: { timeoutMs?: number }): Promise<ShardSetElection[]>;
  /**
   * What a component printed, oldest first: "etcd", "m3coordinator" (or "coordinator"), or a node id.
   * Throws naming the known components for any other name.
   */
  logs(component: string): Promise<string[]>;
  /**
   * Writes each component's logs to `<dir>/<clusterId>/<component>.log` (default dir: `.m3agg/logs`
   * under the working directory) and gives the cluster's folder (loopback: at once; other targets
   * read the logs from their engine, so `await` it).
   */
  writeLogs(dir?: string): string | Promise<string>;
  /** Removes everything the cluster runs. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
