/**
 * JSON shapes of the m3coordinator admin API (placement and topic), as the
 * coordinator emits them (jsonpb, lowerCamel names, int64 as strings).
 */

/** Shard state in a placement. Aggregator shards stay INITIALIZING (no mark-available endpoint). */
export type ShardState = "INITIALIZING" | "AVAILABLE" | "LEAVING";

export interface PlacementShard {
  id: number;
  state: ShardState;
  sourceId: string;
  /** Nanoseconds since the epoch, as a decimal string. "0" = cut over since forever. */
  cutoverNanos: string;
  /** Nanoseconds since the epoch, as a decimal string. "0" = never cut off. */
  cutoffNanos: string;
  redirectToShardId?: { value: number } | null;
}

export interface PlacementInstance {
  id: string;
  isolationGroup: string;
  zone: string;
  weight: number;
  /** host:port clients dial: the raw TCP ingest address for aggregators, the m3msg address for consumers. */
  endpoint: string;
  shards: PlacementShard[];
  /** Shard-set ids start at 1; every replica of a shard set holds the same shards. */
  shardSetId: number;
  hostname: string;
  /** Only used to pair mirrored replicas; not a listening port. */
  port: number;
  metadata?: { debugPort: number };
}

export interface Placement {
  instances: Record<string, PlacementInstance>;
  replicaFactor: number;
  numShards: number;
  isSharded: boolean;
  cutoverTime: string;
  isMirrored: boolean;
  maxShardSetId: number;
}

export interface PlacementResponse {
  placement: Placement;
  version: number;
}

/** One instance in a placement init request (snake_case as the admin API accepts it). */
export interface PlacementInstanceRequest {
  id: string;
  isolation_group: string;
  zone: string;
  weight: number;
  endpoint: string;
  hostname: string;
  port: number;
  /** m3's InstanceMetadata: the node's delve port in debug mode. */
  metadata?: { debug_port: number };
}

export interface PlacementInitRequest {
  num_shards?: number;
  replication_factor: number;
  instances: PlacementInstanceRequest[];
}

export type ConsumptionType = "SHARED" | "REPLICATED";

export interface TopicConsumerService {
  serviceId: { name: string; environment: string; zone: string };
  consumptionType: ConsumptionType;
  /** Nanoseconds as a decimal string; "0" = retry forever. */
  messageTtlNanos: string;
}

export interface Topic {
  name: string;
  numberOfShards: number;
  consumerServices: TopicConsumerService[] | null;
}

export interface TopicResponse {
  topic: Topic;
  version: number;
}
