/**
 * Live topology changes of a running cluster, as an operator does them: start the new containers,
 * one admin call (add, remove or replace, with force), then the fast cutover rewrite, wait for
 * the cutover, wait until the leaving owners flushed up to their cutoff, finalize the placement,
 * wait for a settled election, remove the leaving containers. Each step's rule is in
 * m3/placement-change.ts; this module only sequences them and measures each phase.
 */
import type { M3AdminClient } from "../m3/admin-client";
import { readFlushTimes, unflushedShards } from "../m3/flush-times";
import { shardSetsOf } from "../m3/placement";
import {
  buildAddRequest, buildRemoveRequest, buildReplaceRequest, coordinatorGuardDelayMs, DEFAULT_PROPAGATION_MARGIN_MS, DEFAULT_RESOLUTIONS_MS,
  exactlyOnceViolations, fastChangeTimeMs, finalizedPlacement, movingShards, nextInstanceIds, pendingChangeTimeMs, windowBoundaryMs, withChangeTime,
} from "../m3/placement-change";
import type { Placement, PlacementResponse } from "../m3/types";
import type { StartedM3AggregatorNode } from "../containers/m3aggregator";
import { poll } from "../util/poll";
import type { ClusterPlan } from "../plan/plan";
import { describeElection, readElection, type ShardSetElection, waitForElection } from "./readiness";
import { startAddedNodes } from "./topology-nodes";
import { InvalidOptionError } from "../model/options";
import { assertNoChangeInFlight, validateAddCount, validateRemove, validateReplace } from "./topology-request";

/**
 * How long the package's ingest client may take to route by a new placement: it polls the coordinator
 * every 250 ms (`followPlacement`) and one GET answers in well under 100 ms on loopback; 2 s is the budget
 * the exactly-once check holds every change to (the propagation margin, 5 s by default, must exceed it).
 */
export const INGEST_CLIENT_UPDATE_BOUND_MS = 2_000;

/** Phases of a change, in order. */
export const TOPOLOGY_PHASES = ["containerStart", "adminCall", "cutoverWait", "cutoffAndFlush", "finalize", "election", "removal"] as const;
export type TopologyPhase = (typeof TOPOLOGY_PHASES)[number];

/** What a completed change did, and when. */
export interface TopologyChange {
  kind: "add" | "remove" | "replace";
  /** Instance ids that joined / left. */
  added: string[];
  removed: string[];
  /** Placement versions: before the change, after the admin call, after the cutover rewrite, after finalize. */
  placementVersions: { before: number; adminCall: number; changeTime: number; after: number };
  /** The cutover the coordinator chose (next whole minute), ISO. */
  coordinatorChangeTime: string;
  /** T: the cutover of every moved shard's new owner and the cutoff of its old owner, ISO and ms. */
  changeTime: string;
  changeTimeMs: number;
  /** When the placement with T was written (ms): T − this is the propagation lead. */
  placementWrittenAtMs: number;
  /** When the leaving owners' flush times were seen at or past T (ms). */
  leavingFlushedAtMs: number;
  /** Duration of each phase (ms) and in total. */
  phasesMs: Record<TopologyPhase, number>;
  totalMs: number;
  /** Leader of each shard set (by shardSetId; null = none) before and after. */
  leadersBefore: Record<string, string | null>;
  leadersAfter: Record<string, string | null>;
  /** Members of each shard set before and after. */
  shardSetsBefore: Record<string, string[]>;
  shardSetsAfter: Record<string, string[]>;
}

/** Per-call options of addNodes / removeNodes / replaceNode. */
export interface TopologyOptions {
  /** Give up (with the phase and the last state) after this long. Default 240 s. */
  timeoutMs?: number;
  /** Called at the start and end of each phase. */
  onProgress?: (event: { phase: TopologyPhase; status: "start" | "done"; elapsedMs: number; detail?: string }) => void;
  /** T is at least this long after the placement write (default 5 s; must exceed {@link INGEST_CLIENT_UPDATE_BOUND_MS}, and your own clients' bound). */
  propagationMarginMs?: number;
  /** Storage-policy resolutions in use (ms); T is a boundary of all. Default [10 000] (the fixture's 10s:2d). */
  resolutionsMs?: readonly number[];
}

/** A change failed in a phase; the placement may be part-way (see the message for its state). */
export class TopologyChangeError extends Error {
  override readonly name = "TopologyChangeError";
  constructor(readonly clusterId: string, readonly phase: TopologyPhase, cause: unknown, detail = "") {
    super(`cluster ${clusterId}: topology change failed in phase ${phase}: ${(cause as Error)?.message ?? String(cause)}${detail === "" ? "" : `\n${detail}`}`, { cause });
  }
}

/** What a change needs of the started cluster. */
export interface TopologyTarget {
  readonly plan: ClusterPlan;
  readonly admin: M3AdminClient;
  getId(): string;
  getEtcdUrl(): string;
  /** The cluster's node handles now. */
  currentNodes(): readonly StartedM3AggregatorNode[];
  /** Re-reads the node containers from the engine (another process may have changed the topology). */
  syncNodes(): Promise<unknown>;
  /** The owner labels of the cluster's containers: new nodes take them (they live with the cluster, not with the caller). */
  clusterOwner(): Record<string, string>;
  /** Takes new nodes into the handle / drops removed ones from it. */
  adoptNodes(nodes: StartedM3AggregatorNode[]): void;
  dropNodes(ids: string[]): void;
  /** The last log lines of these components, formatted. */
  logTailsOf(components: string[]): string;
}

const record = <V>(map: Map<number, V>): Record<string, V> => Object.fromEntries([...map.entries()].map(([k, v]) => [String(k), v]));

function leadersOf(elections: ShardSetElection[]): Record<string, string | null> {
  return Object.fromEntries(elections.map((e) => [String(e.shardSetId), e.leader ?? null]));
}

function apisOf(nodes: readonly StartedM3AggregatorNode[]): Map<string, StartedM3AggregatorNode["api"]> {
  return new Map(nodes.map((n) => [n.id, n.api]));
}

/** Checks the per-call options; throws an InvalidOptionError naming the value and the rule. */
export function validateTopologyOptions(options: TopologyOptions): void {
  const { timeoutMs, propagationMarginMs, resolutionsMs } = options;
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 1_000)) {
    throw new InvalidOptionError("timeoutMs", timeoutMs, "must be a whole number of ms, at least 1000");
  }
  if (propagationMarginMs !== undefined && (!Number.isInteger(propagationMarginMs) || propagationMarginMs <= INGEST_CLIENT_UPDATE_BOUND_MS || propagationMarginMs > 600_000)) {
    throw new InvalidOptionError("propagationMarginMs", propagationMarginMs,
      `must be a whole number of ms above the ingest client's placement-update bound (${INGEST_CLIENT_UPDATE_BOUND_MS} ms) and at most 600000 (m3's 10 min cutover warmup)`);
  }
  if (resolutionsMs !== undefined && (!Array.isArray(resolutionsMs) || resolutionsMs.length === 0 || !resolutionsMs.every((r) => Number.isInteger(r) && r > 0))) {
    throw new InvalidOptionError("resolutionsMs", resolutionsMs, "must be a non-empty list of storage-policy resolutions in whole ms, e.g. [10000, 60000]");
  }
}

/** The ids a change adds, validated: count a multiple of rf. Throws an InvalidOptionError before any call. */
/** New nodes would need link proxies that the running Toxiproxy does not have: refused before any call. */
function refuseNewNodesWithFaults(target: TopologyTarget, call: string): void {
  if (target.plan.faults !== undefined) {
    throw new InvalidOptionError("faults", true, `${call} starts new nodes, and a faults: true cluster has proxies only for the nodes it started with; change the topology of a cluster without faults`);
  }
}

export async function addNodes(target: TopologyTarget, count: number | undefined, options: TopologyOptions = {}): Promise<{ nodes: StartedM3AggregatorNode[]; change: TopologyChange }> {
  validateTopologyOptions(options);
  refuseNewNodesWithFaults(target, "addNodes");
  const rf = target.plan.inputs.options.rf;
  const n = validateAddCount(count ?? rf, rf);
  await target.syncNodes();
  const { placement } = await target.admin.getPlacement("m3aggregator");
  assertNoChangeInFlight(placement);
  const ids = nextInstanceIds([...Object.keys(placement.instances), ...target.currentNodes().map((x) => x.id)], n);
  return runChange(target, "add", options, {
    newIds: ids,
    leavingIds: [],
    call: (nodes) => target.admin.addInstances("m3aggregator", buildAddRequest(nodes.map((x) => ({ id: x.id, endpoint: x.getTcpEndpoint(), debugPort: x.getDebugPort() })), rf)),
  });
}

/** Removes whole shard sets; a partial set or an unknown id is refused before any call. */
export async function removeNodes(target: TopologyTarget, ids: string[], options: TopologyOptions = {}): Promise<TopologyChange> {
  validateTopologyOptions(options);
  await target.syncNodes();
  const { placement } = await target.admin.getPlacement("m3aggregator");
  const leaving = validateRemove(ids, placement);
  assertNoChangeInFlight(placement);
  return (await runChange(target, "remove", options, {
    newIds: [],
    leavingIds: leaving,
    call: () => target.admin.removeInstances("m3aggregator", buildRemoveRequest(leaving)),
  })).change;
}

/** Replaces `id` by a new node that takes its shard set. */
export async function replaceNode(target: TopologyTarget, id: string, options: TopologyOptions = {}): Promise<{ node: StartedM3AggregatorNode; change: TopologyChange }> {
  validateTopologyOptions(options);
  refuseNewNodesWithFaults(target, "replaceNode");
  await target.syncNodes();
  const { placement } = await target.admin.getPlacement("m3aggregator");
  const leavingId = validateReplace(id, placement);
  assertNoChangeInFlight(placement);
  const leaving = placement.instances[leavingId];
  if (leaving === undefined) throw new Error(`unreachable: ${leavingId} validated`);
  const [newId] = nextInstanceIds([...Object.keys(placement.instances), ...target.currentNodes().map((x) => x.id)], 1) as [string];
  const { nodes, change } = await runChange(target, "replace", options, {
    newIds: [newId],
    leavingIds: [leavingId],
    call: ([node]) => target.admin.replaceInstances("m3aggregator", buildReplaceRequest(leaving, {
      id: (node as StartedM3AggregatorNode).id, endpoint: (node as StartedM3AggregatorNode).getTcpEndpoint(), debugPort: (node as StartedM3AggregatorNode).getDebugPort(),
    })),
  });
  return { node: nodes[0] as StartedM3AggregatorNode, change };
}

interface ChangeSpec {
  newIds: string[];
  leavingIds: string[];
  call: (nodes: StartedM3AggregatorNode[]) => Promise<PlacementResponse>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runChange(target: TopologyTarget, kind: TopologyChange["kind"], options: TopologyOptions, spec: ChangeSpec): Promise<{ nodes: StartedM3AggregatorNode[]; change: TopologyChange }> {
  const clusterId = target.getId();
  const marginMs = options.propagationMarginMs ?? DEFAULT_PROPAGATION_MARGIN_MS;
  const resolutionsMs = options.resolutionsMs ?? DEFAULT_RESOLUTIONS_MS;
  const t0 = Date.now();
  const deadline = t0 + (options.timeoutMs ?? 240_000);
  const remaining = () => Math.max(1_000, deadline - Date.now());
  const phasesMs = Object.fromEntries(TOPOLOGY_PHASES.map((p) => [p, 0])) as Record<TopologyPhase, number>;
  let current: TopologyPhase = "containerStart";
  const phase = async <T>(name: TopologyPhase, work: () => Promise<T>, detail?: string): Promise<T> => {
    current = name;
    const start = Date.now();
    options.onProgress?.({ phase: name, status: "start", elapsedMs: start - t0, detail });
    const result = await work();
    phasesMs[name] = Date.now() - start;
    options.onProgress?.({ phase: name, status: "done", elapsedMs: Date.now() - t0 });
    return result;
  };

  const before = await target.admin.getPlacement("m3aggregator");
  const shardSetsBefore = shardSetsOf(before.placement);
  const leadersBefore = leadersOf(await readElection(shardSetsBefore, apisOf(target.currentNodes())));

  let started: StartedM3AggregatorNode[] = [];
  let adopted = false;
  try {
    started = await phase("containerStart", () => (spec.newIds.length === 0 ? Promise.resolve([]) : startAddedNodes(target.plan, spec.newIds, remaining(), target.clusterOwner())),
      spec.newIds.join(", "));

    // The coordinator sets T to the next whole minute; keep that far enough ahead to rewrite it first.
    const { response, written, coordinatorChangeMs } = await phase("adminCall", async () => {
      const guard = coordinatorGuardDelayMs(Date.now(), marginMs);
      if (guard > 0) await sleep(guard);
      const response = await spec.call(started);
      target.adoptNodes(started);
      adopted = true;
      const coordinatorChangeMs = pendingChangeTimeMs(response.placement);
      if (coordinatorChangeMs === undefined) throw new Error("the admin call moved no shard");
      // The fast cutover rule: T = next boundary of every resolution, at least the margin after this write.
      const now = Date.now();
      const changeTimeMs = fastChangeTimeMs(now, marginMs, resolutionsMs);
      const written = await target.admin.setPlacement("m3aggregator", withChangeTime(response.placement, changeTimeMs, now), response.version, true);
      return { response, written: { ...written, at: Date.now(), changeTimeMs }, coordinatorChangeMs };
    });
    const changeTimeMs = written.changeTimeMs;
    const changeNanos = BigInt(changeTimeMs) * 1_000_000n;

    await phase("cutoverWait", () => poll(() => (Date.now() > changeTimeMs ? true : undefined), {
      timeoutMs: Math.max(remaining(), changeTimeMs - Date.now() + 1_000), intervalMs: 50, what: `cutover at ${new Date(changeTimeMs).toISOString()}`,
    }), new Date(changeTimeMs).toISOString());

    // The leaving owners (their shard sets) must have flushed every window ending at or before T, and
    // the new owners at least one window after T: their first flush after T discards what they hold of
    // windows ending at or before T (list.go), so finalize may reset their cutover to 0 as m3 does
    // (m3's mirrored algorithm requires the replicas of a shard set to hold equal shards).
    const targets = new Map<number, { shards: Set<number>; leaving: Set<number>; target: bigint }>();
    for (const { shardSetId, shard } of movingShards(written.placement)) {
      const entry = targets.get(shardSetId) ?? { shards: new Set<number>(), leaving: new Set<number>(), target: changeNanos };
      entry.shards.add(shard.id);
      if (shard.state === "LEAVING") entry.leaving.add(shard.id);
      else entry.target = changeNanos + 1n;
      targets.set(shardSetId, entry);
    }
    // A shard without flush times never held data (m3 records them per list, created by writes); once
    // T + 2 boundaries have passed under a leader, any data of a window ending at T would have been flushed.
    const boundaryMs = windowBoundaryMs(resolutionsMs);
    let lastFlush = "";
    let leavingFlushedAtMs: number | undefined;
    await phase("cutoffAndFlush", () => poll(async () => {
      const elections = await readElection(shardSetsOf(written.placement), apisOf(target.currentNodes()));
      const late = Date.now() >= changeTimeMs + 2 * boundaryMs;
      const states = await Promise.all([...targets.entries()].map(async ([setId, entry]) => {
        const times = await readFlushTimes(target.getEtcdUrl(), setId);
        const led = elections.find((e) => e.shardSetId === setId)?.leader !== undefined;
        const done = (shards: Set<number>, at: bigint) => {
          const { behind, absent } = unflushedShards(times, shards, at);
          return { ok: behind.length === 0 && (absent.length === 0 || (late && led)), behind, absent };
        };
        return { setId, all: done(entry.shards, entry.target), leaving: done(entry.leaving, changeNanos) };
      }));
      if (leavingFlushedAtMs === undefined && states.every((s) => s.leaving.ok)) leavingFlushedAtMs = Date.now();
      lastFlush = states.map((s) => `shard set ${s.setId}: ${s.all.behind.length} shards flushed short of ${targets.get(s.setId)?.target === changeNanos ? "T" : "after T"}, ${s.all.absent.length} without flush times`).join("; ");
      return states.every((s) => s.all.ok) ? true : undefined;
    }, {
      timeoutMs: remaining(), intervalMs: 250, what: "flush times around T",
      onTimeout: () => new Error(`flush times did not reach T=${new Date(changeTimeMs).toISOString()} (leaving owners) and pass it (new owners): ${lastFlush}`),
    }));
    const flushedAtMs = leavingFlushedAtMs ?? Date.now();

    const finalized = await phase("finalize", async () => {
      for (let attempt = 0; ; attempt++) {
        const latest = await target.admin.getPlacement("m3aggregator");
        try {
          return await target.admin.setPlacement("m3aggregator", finalizedPlacement(latest.placement, Date.now()), latest.version, true);
        } catch (error) {
          if (attempt >= 2) throw error; // a concurrent writer: read again and retry
        }
      }
    });

    const shardSetsAfter = shardSetsOf(finalized.placement);
    const elections = await phase("election", async () => {
      try {
        return await waitForElection(shardSetsAfter, apisOf(target.currentNodes()), remaining());
      } catch (error) {
        const last = await readElection(shardSetsAfter, apisOf(target.currentNodes())).catch(() => []);
        throw new Error(`${(error as Error).message}\n${describeElection(last)}`, { cause: error });
      }
    });

    const removedAt = await phase("removal", async () => {
      const leaving = target.currentNodes().filter((n) => spec.leavingIds.includes(n.id));
      // Clients drop the leaving endpoints within their update bound; then the containers go.
      if (leaving.length > 0) await sleep(marginMs);
      await Promise.all(leaving.map((n) => n.remove({ timeout: 5 })));
      const states = await Promise.all(leaving.map(async (n) => [n.id, await n.state()] as const));
      const left = states.filter(([, s]) => s !== "missing");
      if (left.length > 0) throw new Error(`containers not removed: ${left.map(([id, s]) => `${id} (${s})`).join(", ")}`);
      target.dropNodes(spec.leavingIds);
      return Date.now();
    }, spec.leavingIds.join(", "));

    const violations = exactlyOnceViolations({
      changeTimeMs, resolutionsMs, placementWrittenAtMs: written.at, clientUpdateBoundMs: INGEST_CLIENT_UPDATE_BOUND_MS, leavingFlushedAtMs: flushedAtMs, leavingRemovedAtMs: removedAt,
    });
    if (violations.length > 0) throw new Error(`exactly-once rule violated: ${violations.join("; ")}`);

    return {
      nodes: started,
      change: {
        kind, added: spec.newIds, removed: spec.leavingIds,
        placementVersions: { before: before.version, adminCall: response.version, changeTime: written.version, after: finalized.version },
        coordinatorChangeTime: new Date(coordinatorChangeMs).toISOString(),
        changeTime: new Date(changeTimeMs).toISOString(), changeTimeMs, placementWrittenAtMs: written.at, leavingFlushedAtMs: flushedAtMs,
        phasesMs, totalMs: Date.now() - t0,
        leadersBefore, leadersAfter: leadersOf(elections),
        shardSetsBefore: record(shardSetsBefore), shardSetsAfter: record(shardSetsAfter),
      },
    };
  } catch (error) {
    if (!adopted) await Promise.all(started.map((n) => n.remove({ timeout: 1 }).catch(() => undefined)));
    const placement: Placement | undefined = await target.admin.getPlacement("m3aggregator").then((r) => r.placement).catch(() => undefined);
    const state = placement === undefined ? "" : `placement now: ${[...shardSetsOf(placement).entries()].map(([s, m]) => `set ${s}=${m.join("+")}`).join(", ")}; moving shards: ${movingShards(placement).length}`;
    throw new TopologyChangeError(clusterId, current, error, `${state}\n${target.logTailsOf([...spec.newIds, ...spec.leavingIds])}`);
  }
}
