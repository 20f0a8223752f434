import {
  buildAddRequest, buildRemoveRequest, buildReplaceRequest, coordinatorGuardDelayMs, exactlyOnceViolations, fastChangeTimeMs,
  finalizedPlacement, leavingInstances, movingShards, nextInstanceIds, pendingChangeTimeMs, summarizeShardStates, windowBoundaryMs,
  windowFlusher, withChangeTime,
} from "../../../src/m3/placement-change";
import type { Placement, PlacementInstance, PlacementShard } from "../../../src/m3/types";

const MS = 1_000_000n;
const ns = (ms: number) => String(BigInt(ms) * MS);

function shard(id: number, state: PlacementShard["state"], extra: Partial<PlacementShard> = {}): PlacementShard {
  return { id, state, sourceId: "", cutoverNanos: "0", cutoffNanos: "0", ...extra };
}

function inst(id: string, shardSetId: number, group: string, shards: PlacementShard[]): PlacementInstance {
  return { id, isolationGroup: group, zone: "embedded", weight: 100, endpoint: `127.0.0.1:${id.slice(-2)}`, shardSetId, hostname: id, port: 6000, shards };
}

function placement(instances: PlacementInstance[]): Placement {
  return {
    instances: Object.fromEntries(instances.map((i) => [i.id, i])), replicaFactor: 2, numShards: 4, isSharded: true,
    cutoverTime: "0", isMirrored: true, maxShardSetId: Math.max(...instances.map((i) => i.shardSetId)),
  };
}

// What m3's mirrored add of shard set 2 (03, 04) to a 2-node placement writes (sharded_helper moveShard):
// moved shards LEAVING on the old owners with cutoff Tc, INITIALIZING on the new owners with cutover Tc, source = old owner.
const Tc = Date.UTC(2026, 11, 1, 13, 1, 0); // the coordinator's next whole minute
const afterAdd = placement([
  inst("m3aggregator01", 1, "group-1", [shard(0, "AVAILABLE"), shard(1, "AVAILABLE"), shard(2, "LEAVING", { cutoffNanos: ns(Tc) }), shard(3, "LEAVING", { cutoffNanos: ns(Tc) })]),
  inst("m3aggregator02", 1, "group-2", [shard(0, "AVAILABLE"), shard(1, "AVAILABLE"), shard(2, "LEAVING", { cutoffNanos: ns(Tc) }), shard(3, "LEAVING", { cutoffNanos: ns(Tc) })]),
  inst("m3aggregator03", 2, "group-1", [shard(2, "INITIALIZING", { sourceId: "m3aggregator01", cutoverNanos: ns(Tc) }), shard(3, "INITIALIZING", { sourceId: "m3aggregator01", cutoverNanos: ns(Tc) })]),
  inst("m3aggregator04", 2, "group-2", [shard(2, "INITIALIZING", { sourceId: "m3aggregator02", cutoverNanos: ns(Tc) }), shard(3, "INITIALIZING", { sourceId: "m3aggregator02", cutoverNanos: ns(Tc) })]),
]);

describe("admin requests", () => {
  const node = (id: string) => ({ id, endpoint: `127.0.0.1:${id.slice(-2)}` });

  test("add: force, one isolation group per replica of each new shard set, same weight and mirror port as init", () => {
    const request = buildAddRequest([node("m3aggregator05"), node("m3aggregator06"), node("m3aggregator07"), node("m3aggregator08")], 2);
    expect(request.force).toBe(true);
    expect(request.instances.map((i) => [i.id, i.isolation_group, i.hostname, i.port, i.weight, i.zone])).toEqual([
      ["m3aggregator05", "group-1", "m3aggregator05", 6000, 100, "embedded"],
      ["m3aggregator06", "group-2", "m3aggregator06", 6000, 100, "embedded"],
      ["m3aggregator07", "group-1", "m3aggregator07", 6000, 100, "embedded"],
      ["m3aggregator08", "group-2", "m3aggregator08", 6000, 100, "embedded"],
    ]);
  });

  test("remove and replace: the field names of m3's admin protos (instance_ids; leavingInstanceIDs, candidates), force", () => {
    expect(buildRemoveRequest(["m3aggregator03", "m3aggregator04"])).toEqual({ instance_ids: ["m3aggregator03", "m3aggregator04"], force: true });
    const leaving = afterAdd.instances.m3aggregator02 as PlacementInstance;
    const request = buildReplaceRequest(leaving, node("m3aggregator05"));
    expect(request.leavingInstanceIDs).toEqual(["m3aggregator02"]);
    expect(request.force).toBe(true);
    // The candidate's group differs from the remaining member's (01 is group-1): it is the leaving one's.
    expect(request.candidates[0]?.isolation_group).toBe("group-2");
    expect(request.candidates[0]?.endpoint).toBe("127.0.0.1:05");
  });

  test("next instance ids follow the highest number seen, two digits, never reuse a removed one", () => {
    expect(nextInstanceIds(["m3aggregator01", "m3aggregator02", "m3aggregator03", "m3aggregator04"], 2)).toEqual(["m3aggregator05", "m3aggregator06"]);
    expect(nextInstanceIds(["m3aggregator01", "m3aggregator02", "m3aggregator06"], 1)).toEqual(["m3aggregator07"]);
    expect(nextInstanceIds(["m3aggregator09"], 2)).toEqual(["m3aggregator10", "m3aggregator11"]);
  });
});

describe("fast cutover rule", () => {
  test("T is the first boundary of every resolution at or after now + margin", () => {
    const now = Date.UTC(2026, 11, 1, 13, 0, 3, 250);
    expect(fastChangeTimeMs(now, 5_000, [10_000])).toBe(Date.UTC(2026, 11, 1, 13, 0, 10));
    expect(fastChangeTimeMs(now, 7_000, [10_000])).toBe(Date.UTC(2026, 11, 1, 13, 0, 20));
    expect(fastChangeTimeMs(now, 5_000, [10_000, 60_000])).toBe(Date.UTC(2026, 11, 1, 13, 1, 0));
    expect(windowBoundaryMs([10_000, 15_000])).toBe(30_000); // 15 s windows: not every 10 s boundary is one
    for (let i = 0; i < 1000; i++) {
      const t = 1_700_000_000_000 + Math.floor(Math.random() * 1e9);
      const T = fastChangeTimeMs(t, 5_000, [10_000, 15_000]);
      expect(T % 10_000).toBe(0);
      expect(T % 15_000).toBe(0);
      expect(T).toBeGreaterThanOrEqual(t + 5_000);
      expect(T - t).toBeLessThan(5_000 + 30_000);
    }
  });

  test("guard delay: wait past the coordinator's minute boundary when it is closer than the guard", () => {
    const minute = Date.UTC(2026, 11, 1, 13, 1, 0);
    expect(coordinatorGuardDelayMs(minute - 30_000, 5_000)).toBe(0);
    expect(coordinatorGuardDelayMs(minute - 5_000, 5_000)).toBe(0);
    expect(coordinatorGuardDelayMs(minute - 4_999, 5_000)).toBe(5_000);
    expect(coordinatorGuardDelayMs(minute - 1, 5_000)).toBe(2);
    expect(coordinatorGuardDelayMs(minute, 5_000)).toBe(1); // on the boundary the coordinator's cutover would be now
  });

  test("rewrites exactly the moving shards' cutover (INITIALIZING with source) and cutoff (LEAVING)", () => {
    const now = Tc - 40_000;
    const T = fastChangeTimeMs(now, 5_000, [10_000]);
    const moved = withChangeTime(afterAdd, T, now);
    expect(pendingChangeTimeMs(afterAdd)).toBe(Tc);
    expect(pendingChangeTimeMs(moved)).toBe(T);
    for (const [id, instance] of Object.entries(afterAdd.instances)) {
      const next = moved.instances[id] as PlacementInstance;
      expect({ ...next, shards: [] }).toEqual({ ...instance, shards: [] });
      instance.shards.forEach((s, i) => {
        const n = next.shards[i] as PlacementShard;
        if (s.state === "AVAILABLE") expect(n).toEqual(s);
        if (s.state === "LEAVING") expect(n).toEqual({ ...s, cutoffNanos: ns(T) });
        if (s.state === "INITIALIZING") expect(n).toEqual({ ...s, cutoverNanos: ns(T) });
      });
    }
    expect(movingShards(moved)).toHaveLength(8);
  });

  test("refuses to rewrite a time that is about to pass, or a placement where nothing moves", () => {
    expect(() => withChangeTime(afterAdd, Tc + 10_000, Tc - 500)).toThrow(/shard 2 of m3aggregator01 is LEAVING with cutoff .* less than 1000 ms ahead/);
    const settled = finalizedPlacement(afterAdd, Tc);
    expect(() => withChangeTime(settled, Tc + 10_000, Tc)).toThrow(/no moving shard/);
  });
});

describe("finalize", () => {
  test("after T: moved-in shards AVAILABLE as m3 marks them (cutover 0, no source), leaving shards dropped, empty instances gone", () => {
    const T = Tc;
    const removal = placement([
      inst("m3aggregator01", 1, "group-1", [shard(0, "AVAILABLE"), shard(1, "AVAILABLE"), shard(2, "INITIALIZING", { sourceId: "m3aggregator03", cutoverNanos: ns(T) })]),
      inst("m3aggregator02", 1, "group-2", [shard(0, "AVAILABLE"), shard(1, "AVAILABLE"), shard(2, "INITIALIZING", { sourceId: "m3aggregator04", cutoverNanos: ns(T) })]),
      inst("m3aggregator03", 2, "group-1", [shard(2, "LEAVING", { cutoffNanos: ns(T) })]),
      inst("m3aggregator04", 2, "group-2", [shard(2, "LEAVING", { cutoffNanos: ns(T) })]),
    ]);
    expect(leavingInstances(removal).map((i) => i.id)).toEqual(["m3aggregator03", "m3aggregator04"]);
    expect(() => finalizedPlacement(removal, T - 1)).toThrow(/not final yet/);
    const done = finalizedPlacement(removal, T);
    expect(Object.keys(done.instances).sort()).toEqual(["m3aggregator01", "m3aggregator02"]);
    expect(done.instances.m3aggregator01?.shards).toEqual([shard(0, "AVAILABLE"), shard(1, "AVAILABLE"), shard(2, "AVAILABLE")]);
    expect(movingShards(done)).toEqual([]);
    expect(leavingInstances(done)).toEqual([]);
  });

  test("after an add every shard has exactly one shard set again, and the replicas of a set hold equal shards (m3's mirrored invariant)", () => {
    const done = finalizedPlacement(afterAdd, Tc + 1);
    expect(done.instances.m3aggregator03?.shards).toEqual(done.instances.m3aggregator04?.shards);
    expect(done.instances.m3aggregator01?.shards).toEqual(done.instances.m3aggregator02?.shards);
    const owners = new Map<number, Set<number>>();
    for (const i of Object.values(done.instances)) for (const s of i.shards) owners.set(s.id, (owners.get(s.id) ?? new Set()).add(i.shardSetId));
    expect([...owners.entries()].sort()).toEqual([[0, new Set([1])], [1, new Set([1])], [2, new Set([2])], [3, new Set([2])]]);
  });
});

describe("exactly-once rule", () => {
  // A simulation independent of the rule's code: writes arrive at times; each window (of each resolution)
  // is flushed by the owner m3's list.go assigns it (end <= T: old, else new) with the writes that owner received.
  function simulate(T: number, resolution: number, clientSwitchAt: number, oldStopsAt: number) {
    const perWindow = new Map<number, { sent: number; flushed: number; flushers: number }>();
    for (let t = T - 60_000; t < T + 60_000; t += 250) {
      const end = Math.floor(t / resolution) * resolution + resolution;
      const w = perWindow.get(end) ?? { sent: 0, flushed: 0, flushers: 0 };
      w.sent += 1;
      const toNew = t >= clientSwitchAt;
      const toOld = t < oldStopsAt;
      if (windowFlusher(end, T) === "new" && toNew) w.flushed += 1;
      if (windowFlusher(end, T) === "old" && toOld) w.flushed += 1;
      perWindow.set(end, w);
    }
    return [...perWindow.values()].every((w) => w.flushed === w.sent);
  }

  test("aligned T, clients on the new owner before T, old owner until after T: every window whole and once", () => {
    expect(simulate(Date.UTC(2026, 11, 1, 13, 0, 10), 10_000, Date.UTC(2026, 11, 1, 13, 0, 4), Date.UTC(2026, 11, 1, 13, 1, 10))).toBe(true);
  });

  test("T not on a window boundary: the straddling window loses the writes the new owner did not get", () => {
    expect(simulate(Date.UTC(2026, 11, 1, 13, 0, 15), 10_000, Date.UTC(2026, 11, 1, 13, 0, 14), Date.UTC(2026, 11, 1, 13, 1, 10))).toBe(false);
  });

  test("a client that switches after T loses writes of the new owner's first window", () => {
    expect(simulate(Date.UTC(2026, 11, 1, 13, 0, 10), 10_000, Date.UTC(2026, 11, 1, 13, 0, 12), Date.UTC(2026, 11, 1, 13, 1, 10))).toBe(false);
  });

  test("the rule names each violated clause", () => {
    const T = Date.UTC(2026, 11, 1, 13, 0, 10);
    const ok = { changeTimeMs: T, resolutionsMs: [10_000], placementWrittenAtMs: T - 6_000, clientUpdateBoundMs: 2_000, leavingFlushedAtMs: T + 12_000, leavingRemovedAtMs: T + 15_000 };
    expect(exactlyOnceViolations(ok)).toEqual([]);
    expect(exactlyOnceViolations({ ...ok, changeTimeMs: T + 5_000 })[0]).toMatch(/not a multiple of 10000 ms/);
    expect(exactlyOnceViolations({ ...ok, placementWrittenAtMs: T - 1_500 })[0]).toMatch(/written 1500 ms before T, not more than the client's update bound of 2000 ms/);
    expect(exactlyOnceViolations({ ...ok, leavingFlushedAtMs: undefined })[0]).toMatch(/removed before their flush times reached T/);
    expect(exactlyOnceViolations({ ...ok, leavingFlushedAtMs: undefined, leavingRemovedAtMs: undefined })).toEqual([]);
  });
});

test("shard state summary groups each instance's shards by state, cutover and cutoff", () => {
  const summary = summarizeShardStates(afterAdd);
  expect(summary.map((s) => [s.shardSetId, s.instance, s.counts])).toEqual([
    [1, "m3aggregator01", { AVAILABLE: 2, LEAVING: 2 }],
    [1, "m3aggregator02", { AVAILABLE: 2, LEAVING: 2 }],
    [2, "m3aggregator03", { INITIALIZING: 2 }],
    [2, "m3aggregator04", { INITIALIZING: 2 }],
  ]);
  expect(summary[0]?.groups).toEqual([
    { state: "AVAILABLE", shards: 2, cutoverMs: null, cutoffMs: null },
    { state: "LEAVING", shards: 2, cutoverMs: null, cutoffMs: Tc },
  ]);
});
