/**
 * Building the aggregator placement request and reading placements. Pure
 * functions: the HTTP calls live in admin-client.ts.
 */
import type { Placement, PlacementInitRequest, PlacementInstance, PlacementInstanceRequest } from "./types";

/** Zone every instance and the coordinator's default header agree on. */
export const ZONE = "embedded";
/** Environment of the placement, election and flush-times keys. */
export const ENVIRONMENT = "default_env";
/** Mirrored placements pair replicas by this (non-listening) port value; it must be equal for all. */
export const MIRROR_PORT = 6000;
/** Same weight for all: mirrored grouping only pairs hosts of equal weight. */
export const WEIGHT = 100;

/** What the placement needs to know about one aggregator node. */
export interface PlacementNode {
  /** Instance id = host id of the node (the aggregator runs with instanceID.type host_id). */
  id: string;
  /** host:port of the node's raw TCP server: what ingest clients dial. */
  endpoint: string;
  /** delve's port (debug mode), recorded in the instance metadata like m3's own tooling does. */
  debugPort?: number;
}

/**
 * Isolation group of the node at 0-based `index`: round-robin over `groups`.
 * The seed's formula `(i-1) % (N/RF) + 1` puts both nodes of N=2, RF=2 in one
 * group, which the mirrored placement rejects (HTTP 500, "no valid instance
 * for mirror placement"). Round-robin over at least RF groups always leaves
 * every group with at most N/RF nodes, so shard sets of RF distinct groups exist.
 */
export function isolationGroupOf(index: number, groups: number): string {
  return `group-${(index % groups) + 1}`;
}

/** The body of `POST /api/v1/services/m3aggregator/placement/init`. */
export function buildPlacementInitRequest(params: {
  nodes: PlacementNode[];
  rf: number;
  numShards: number;
  isolationGroups: number;
}): PlacementInitRequest {
  return {
    num_shards: params.numShards,
    replication_factor: params.rf,
    instances: params.nodes.map((node, i) => instanceRequest(node, isolationGroupOf(i, params.isolationGroups))),
  };
}

/**
 * The same placement with every shard cut over at time 0.
 *
 * The coordinator sets each shard's cutover to the next whole minute, and an
 * aggregator neither campaigns for leadership nor flushes before its shards
 * cut over, so a fresh cluster would sit leaderless for up to 60 s. Writing
 * the placement back through `placement/set` with cutover 0 makes the shards
 * active at once; m3 treats cutover 0 as "always active" (writes are accepted
 * and the election starts immediately). Nothing else in the placement changes.
 */
export function withImmediateCutover(placement: Placement): Placement {
  const instances: Record<string, PlacementInstance> = {};
  for (const [id, instance] of Object.entries(placement.instances)) {
    instances[id] = {
      ...instance,
      shards: instance.shards.map((shard) => ({ ...shard, cutoverNanos: "0" })),
    };
  }
  return { ...placement, instances };
}

/** Shard sets of a mirrored placement: shardSetId → instance ids (sorted). */
export function shardSetsOf(placement: Placement): Map<number, string[]> {
  const sets = new Map<number, string[]>();
  for (const instance of Object.values(placement.instances)) {
    const members = sets.get(instance.shardSetId) ?? [];
    members.push(instance.id);
    sets.set(instance.shardSetId, members);
  }
  for (const members of sets.values()) members.sort();
  return new Map([...sets.entries()].sort(([a], [b]) => a - b));
}

/** One instance of a placement request: init, add or replace (snake_case, as the coordinator takes them). */
export function instanceRequest(node: PlacementNode, isolationGroup: string): PlacementInstanceRequest {
  return {
    id: node.id,
    isolation_group: isolationGroup,
    zone: ZONE,
    weight: WEIGHT,
    endpoint: node.endpoint,
    hostname: node.id, // hostname groups instances into hosts: one host per node
    port: MIRROR_PORT,
    ...(node.debugPort === undefined ? {} : { metadata: { debug_port: node.debugPort } }),
  };
}
