/**
 * Live placement changes of a mirrored aggregator placement (add, remove, replace), as pure
 * functions: the admin-API request bodies, the fast cutover rule, the finalize step, and the
 * exactly-once rule that ties them together. The HTTP calls live in admin-client.ts, the
 * orchestration (containers, waits) in cluster/topology.ts.
 *
 * What m3 does (v1.5.0 and v1.6.0, `cluster/placementhandler/common.go`, `placement/algo/mirrored.go`,
 * `aggregator/aggregator/list.go`, `election_mgr.go`):
 * - add/remove/replace mark every INITIALIZING shard whose cutover has passed AVAILABLE first
 *   (which drops its LEAVING source only when `cutoff <= now - 1 min`), then move shards: a moved
 *   shard is LEAVING on its old owner with cutoff T and INITIALIZING on its new owner with cutover T
 *   (source = old owner), T = now rounded up to the coordinator's `maxAggregationWindowSize` (1 min).
 * - An owner with cutover C and cutoff F flushes exactly the windows whose end is in (C, F]
 *   (`list.go Flush`: ends `<= C` discarded, ends `<= F` consumed, later ones discarded).
 */
import { instanceRequest, isolationGroupOf, type PlacementNode } from "./placement";
import type { Placement, PlacementInstance, PlacementInstanceRequest, PlacementShard } from "./types";

const NS_PER_MS = 1_000_000n;

/** The coordinator's shard cutover granularity for m3aggregator (`maxAggregationWindowSize`, 1 min). */
export const COORDINATOR_WINDOW_MS = 60_000;

/**
 * Default propagation margin: the new cutover/cutoff is at least this far after the placement
 * write that introduced it. It must exceed the time an ingest client and an aggregator take to
 * see a new placement (the ingest client's bound is `PLACEMENT_UPDATE_BOUND_MS`; the aggregators
 * watch etcd and see it within milliseconds).
 */
export const DEFAULT_PROPAGATION_MARGIN_MS = 5_000;

/** The largest storage-policy resolution of the fixture's aggregator config (`defaultStoragePolicies: 10s:2d`). */
export const DEFAULT_RESOLUTIONS_MS: readonly number[] = [10_000];


/** Body of `POST …/placement` (add). `force`: nothing in open-source m3 marks aggregator shards available. */
export interface PlacementAddRequest {
  instances: PlacementInstanceRequest[];
  force: true;
}

/** Body of `POST …/placement/remove`. */
export interface PlacementRemoveRequest {
  instance_ids: string[];
  force: true;
}

/** Body of `POST …/placement/replace`. */
export interface PlacementReplaceRequest {
  leavingInstanceIDs: string[];
  candidates: PlacementInstanceRequest[];
  force: true;
}

/**
 * Add request for whole shard sets: node j of the new nodes gets isolation group `group-(j % rf + 1)`,
 * so every group of rf consecutive new nodes has rf distinct groups (m3's mirrored selector pairs
 * candidates by isolation group, one shard set per rf candidates).
 */
export function buildAddRequest(nodes: PlacementNode[], rf: number): PlacementAddRequest {
  return { instances: nodes.map((node, j) => instanceRequest(node, isolationGroupOf(j, rf))), force: true };
}

export function buildRemoveRequest(ids: string[]): PlacementRemoveRequest {
  return { instance_ids: [...ids], force: true };
}

/**
 * Replace request: the candidate takes the leaving instance's isolation group, which differs from
 * every remaining member of its shard set (mirrored sets have rf distinct groups), as m3 requires.
 */
export function buildReplaceRequest(leaving: PlacementInstance, candidate: PlacementNode): PlacementReplaceRequest {
  return { leavingInstanceIDs: [leaving.id], candidates: [instanceRequest(candidate, leaving.isolationGroup)], force: true };
}

/** Instance ids `m3aggregatorNN` after the highest number in `known` (ids of removed nodes are not reused). */
export function nextInstanceIds(known: Iterable<string>, count: number): string[] {
  let highest = 0;
  for (const id of known) {
    const match = /^m3aggregator(\d+)$/.exec(id);
    if (match !== null) highest = Math.max(highest, Number(match[1]));
  }
  return Array.from({ length: count }, (_, i) => `m3aggregator${String(highest + 1 + i).padStart(2, "0")}`);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Least common multiple of the resolutions (ms): a time that is a multiple of it is a boundary of every window. */
export function windowBoundaryMs(resolutionsMs: readonly number[]): number {
  if (resolutionsMs.length === 0) throw new Error("no storage-policy resolution given");
  return resolutionsMs.reduce((l, r) => {
    if (!Number.isInteger(r) || r <= 0) throw new Error(`resolution ${r} ms is not a positive whole number of milliseconds`);
    return (l / gcd(l, r)) * r;
  }, 1);
}

/**
 * The fast cutover rule: the change time T (shared by every moved shard's cutover and cutoff) is
 * the first boundary of every resolution in use at or after `now + margin`.
 */
export function fastChangeTimeMs(nowMs: number, marginMs: number, resolutionsMs: readonly number[]): number {
  const boundary = windowBoundaryMs(resolutionsMs);
  return Math.ceil((nowMs + marginMs) / boundary) * boundary;
}

/**
 * How long to wait before an admin call so that the coordinator's own cutover (the next whole
 * minute, taken from its clock at the call) is at least `guardMs` away: the placement it writes is
 * then rewritten to T (see {@link withChangeTime}) before any of its times can pass. 0 when no wait.
 */
export function coordinatorGuardDelayMs(nowMs: number, guardMs: number, windowMs = COORDINATOR_WINDOW_MS): number {
  const untilBoundary = (windowMs - (nowMs % windowMs)) % windowMs;
  return untilBoundary >= guardMs ? 0 : untilBoundary + 1;
}

/** A shard of one instance, with the instance's id and shard set. */
export interface InstanceShard {
  instance: string;
  shardSetId: number;
  shard: PlacementShard;
}

function allShards(placement: Placement): InstanceShard[] {
  return Object.values(placement.instances).flatMap((instance) =>
    instance.shards.map((shard) => ({ instance: instance.id, shardSetId: instance.shardSetId, shard })));
}

/** Shards in motion: INITIALIZING with a source (moved in) and LEAVING. */
export function movingShards(placement: Placement): InstanceShard[] {
  return allShards(placement).filter(({ shard }) =>
    shard.state === "LEAVING" || (shard.state === "INITIALIZING" && (shard.sourceId ?? "") !== ""));
}

/** The time of a moving shard that matters: the cutover of an INITIALIZING one, the cutoff of a LEAVING one. */
export function changeTimeNanos(shard: PlacementShard): bigint {
  return BigInt(shard.state === "LEAVING" ? shard.cutoffNanos : shard.cutoverNanos);
}

/**
 * The placement the admin call wrote, with every moving shard's cutover (INITIALIZING) and cutoff
 * (LEAVING) set to `changeTimeMs`. Throws naming the shard when one of those times is already at or
 * before `nowMs + minLeadMs` (an earlier cutover may have taken effect: the caller must not rewrite
 * it), or when nothing moves. Nothing else changes.
 */
export function withChangeTime(placement: Placement, changeTimeMs: number, nowMs: number, minLeadMs = 1_000): Placement {
  const moving = movingShards(placement);
  if (moving.length === 0) throw new Error("the placement has no moving shard (no INITIALIZING shard with a source, no LEAVING shard)");
  const limit = BigInt(nowMs + minLeadMs) * NS_PER_MS;
  for (const { instance, shard } of moving) {
    if (changeTimeNanos(shard) <= limit) {
      throw new Error(`shard ${shard.id} of ${instance} is ${shard.state} with ${shard.state === "LEAVING" ? "cutoff" : "cutover"} ` +
        `${new Date(Number(changeTimeNanos(shard) / NS_PER_MS)).toISOString()}, less than ${minLeadMs} ms ahead: it is not rewritten`);
    }
  }
  const t = String(BigInt(changeTimeMs) * NS_PER_MS);
  const instances: Record<string, PlacementInstance> = {};
  for (const [id, instance] of Object.entries(placement.instances)) {
    instances[id] = {
      ...instance,
      shards: instance.shards.map((shard) => {
        if (shard.state === "LEAVING") return { ...shard, cutoffNanos: t };
        if (shard.state === "INITIALIZING" && (shard.sourceId ?? "") !== "") return { ...shard, cutoverNanos: t };
        return shard;
      }),
    };
  }
  return { ...placement, instances };
}

/** The one change time of a placement's moving shards (ms), or undefined when nothing moves; throws when they differ. */
export function pendingChangeTimeMs(placement: Placement): number | undefined {
  const times = new Set(movingShards(placement).map(({ shard }) => changeTimeNanos(shard)));
  if (times.size === 0) return undefined;
  if (times.size > 1) throw new Error(`moving shards have different change times: ${[...times].map((t) => String(t)).join(", ")} ns`);
  return Number([...times][0] as bigint / NS_PER_MS);
}

/** Instances whose every shard is LEAVING: the ones a change removes. */
export function leavingInstances(placement: Placement): PlacementInstance[] {
  return Object.values(placement.instances)
    .filter((i) => i.shards.length > 0 && i.shards.every((s) => s.state === "LEAVING"))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The finalize step (the one `placement/set` the admin API cannot do for aggregators before
 * `cutoff + 1 min`): every moved-in INITIALIZING shard whose cutover has passed becomes AVAILABLE as
 * m3's `markShardsAvailable` writes it (cutover 0, cutoff 0, no source: the replicas of a mirrored
 * shard set must hold equal shards, or m3's next add/remove fails "found different shards"), every
 * LEAVING shard whose cutoff has passed is dropped, and instances left without shards leave the
 * placement. Throws when a moving shard's time has not passed at `nowMs`. Run it only once the
 * leaving owners have flushed up to their cutoff (an aggregator closes the shards it no longer owns at
 * once) and the new owners have flushed a window after it (their first flush after the cutover
 * discards what they hold of earlier windows; with cutover 0 they would flush it).
 */
export function finalizedPlacement(placement: Placement, nowMs: number): Placement {
  const now = BigInt(nowMs) * NS_PER_MS;
  for (const { instance, shard } of movingShards(placement)) {
    if (changeTimeNanos(shard) > now) {
      throw new Error(`shard ${shard.id} of ${instance} is ${shard.state} until ${new Date(Number(changeTimeNanos(shard) / NS_PER_MS)).toISOString()}: not final yet`);
    }
  }
  const instances: Record<string, PlacementInstance> = {};
  for (const [id, instance] of Object.entries(placement.instances)) {
    const shards = instance.shards
      .filter((s) => s.state !== "LEAVING")
      .map((s): PlacementShard => s.state === "INITIALIZING" && (s.sourceId ?? "") !== ""
        ? { ...s, state: "AVAILABLE", sourceId: "", cutoverNanos: "0", cutoffNanos: "0" } : s);
    if (shards.length > 0) instances[id] = { ...instance, shards };
  }
  return { ...placement, instances };
}

/**
 * Which owner flushes the window ending at `windowEndMs` in a move at T (m3's `list.go`): the old owner
 * (cutoff T) flushes ends `<= T`, the new owner (cutover T) flushes ends `> T`.
 */
export function windowFlusher(windowEndMs: number, changeTimeMs: number): "old" | "new" {
  return windowEndMs <= changeTimeMs ? "old" : "new";
}

/** What the exactly-once rule needs to know about one change. */
export interface ChangeFacts {
  /** T: cutover of the new owners and cutoff of the old ones (ms). */
  changeTimeMs: number;
  /** Storage-policy resolutions in use (ms). */
  resolutionsMs: readonly number[];
  /** When the placement naming the new owners was written (ms, the end of the admin call). */
  placementWrittenAtMs: number;
  /** Upper bound on how long an ingest client takes to route by a new placement (ms). */
  clientUpdateBoundMs: number;
  /** When the leaving owners' flush times reached T (ms), or undefined when not (yet). */
  leavingFlushedAtMs: number | undefined;
  /** When the leaving owners left the placement / were stopped (ms), or undefined when not (yet). */
  leavingRemovedAtMs: number | undefined;
}

/**
 * The exactly-once rule of a live change. Each window is flushed once, with all of its writes, when:
 * 1. T is a boundary of every resolution in use, so no window straddles T: windows ending `<= T`
 *    lie wholly before T and are the old owner's, later ones wholly after T and the new owner's;
 * 2. every client routes to the new owner before T (the placement was written more than the
 *    client's update bound before T) and to the old owner until after T (m3's client lingers
 *    `shardCutoffLingerDuration` after the cutoff, ours likewise), so each owner got every write of its windows;
 * 3. the old owner leaves the placement, and stops, only after its flush times reached T.
 * Returns the violated clauses (empty = the rule holds).
 */
export function exactlyOnceViolations(facts: ChangeFacts): string[] {
  const violations: string[] = [];
  const boundary = windowBoundaryMs(facts.resolutionsMs);
  if (facts.changeTimeMs % boundary !== 0) {
    violations.push(`T=${new Date(facts.changeTimeMs).toISOString()} is not a multiple of ${boundary} ms (resolutions ${facts.resolutionsMs.join(", ")} ms): a window straddles it`);
  }
  const lead = facts.changeTimeMs - facts.placementWrittenAtMs;
  if (lead <= facts.clientUpdateBoundMs) {
    violations.push(`the placement was written ${lead} ms before T, not more than the client's update bound of ${facts.clientUpdateBoundMs} ms`);
  }
  if (facts.leavingRemovedAtMs !== undefined && (facts.leavingFlushedAtMs === undefined || facts.leavingFlushedAtMs > facts.leavingRemovedAtMs)) {
    violations.push("the leaving owners were removed before their flush times reached T");
  }
  return violations;
}

/** One line per instance of its shard states with cutover and cutoff, for `m3agg status`. */
export interface ShardStateSummary {
  shardSetId: number;
  instance: string;
  /** e.g. { AVAILABLE: 32, LEAVING: 32 } */
  counts: Partial<Record<PlacementShard["state"], number>>;
  /** Distinct (state, cutover, cutoff) groups, times in ms (null = 0 = none). */
  groups: Array<{ state: PlacementShard["state"]; shards: number; cutoverMs: number | null; cutoffMs: number | null }>;
}

function nsToMs(text: string): number | null {
  const ns = BigInt(text || "0");
  return ns === 0n ? null : Number(ns / NS_PER_MS);
}

/** Shard states per instance, grouped by shard set and instance id. */
export function summarizeShardStates(placement: Placement): ShardStateSummary[] {
  return Object.values(placement.instances)
    .sort((a, b) => a.shardSetId - b.shardSetId || a.id.localeCompare(b.id))
    .map((instance) => {
      const counts: ShardStateSummary["counts"] = {};
      const groups = new Map<string, ShardStateSummary["groups"][number]>();
      for (const shard of instance.shards) {
        counts[shard.state] = (counts[shard.state] ?? 0) + 1;
        const cutoverMs = nsToMs(shard.cutoverNanos);
        const cutoffMs = nsToMs(shard.cutoffNanos);
        const key = `${shard.state}/${cutoverMs}/${cutoffMs}`;
        const group = groups.get(key) ?? { state: shard.state, shards: 0, cutoverMs, cutoffMs };
        group.shards += 1;
        groups.set(key, group);
      }
      return { shardSetId: instance.shardSetId, instance: instance.id, counts, groups: [...groups.values()] };
    });
}
