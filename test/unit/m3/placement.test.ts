import { buildPlacementInitRequest, isolationGroupOf, shardSetsOf, withImmediateCutover } from "../../../src/m3/placement";
import type { Placement, PlacementInstance } from "../../../src/m3/types";

const nodes = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `m3aggregator0${i + 1}`, endpoint: `127.0.0.1:${7000 + i}` }));

function instance(id: string, shardSetId: number, cutover: string): PlacementInstance {
  return {
    id, isolationGroup: "g", zone: "embedded", weight: 100, endpoint: `127.0.0.1:1`, shardSetId, hostname: id, port: 6000,
    shards: [0, 1].map((s) => ({ id: s, state: "INITIALIZING", sourceId: "", cutoverNanos: cutover, cutoffNanos: "0" })),
  };
}

describe("placement request", () => {
  test("instances carry id, endpoint, one host each, equal weight and mirror port", () => {
    const request = buildPlacementInitRequest({ nodes: nodes(4), rf: 2, numShards: 64, isolationGroups: 2 });
    expect(request.num_shards).toBe(64);
    expect(request.replication_factor).toBe(2);
    expect(request.instances.map((i) => [i.id, i.endpoint, i.hostname, i.isolation_group])).toEqual([
      ["m3aggregator01", "127.0.0.1:7000", "m3aggregator01", "group-1"],
      ["m3aggregator02", "127.0.0.1:7001", "m3aggregator02", "group-2"],
      ["m3aggregator03", "127.0.0.1:7002", "m3aggregator03", "group-1"],
      ["m3aggregator04", "127.0.0.1:7003", "m3aggregator04", "group-2"],
    ]);
    expect(new Set(request.instances.map((i) => i.port)).size).toBe(1);
    expect(new Set(request.instances.map((i) => i.weight)).size).toBe(1);
    expect(request.instances.every((i) => i.zone === "embedded")).toBe(true);
  });

  test.each([[2, 2], [4, 2], [6, 3], [8, 4], [6, 2], [4, 1]])(
    "nodes=%d rf=%d: every group holds at most nodes/rf nodes, so shard sets of rf distinct groups exist", (n, rf) => {
      const groups = buildPlacementInitRequest({ nodes: nodes(n), rf, numShards: 64, isolationGroups: rf }).instances.map((i) => i.isolation_group);
      expect(new Set(groups).size).toBe(rf);
      for (const g of new Set(groups)) expect(groups.filter((x) => x === g).length).toBeLessThanOrEqual(n / rf);
    });

  test("nodes=2 rf=2 gets two isolation groups (the seed's formula gave one)", () => {
    const seedFormula = (i: number, n: number, rf: number) => `rack-${((i - 1) % (n / rf)) + 1}`;
    expect(new Set([1, 2].map((i) => seedFormula(i, 2, 2))).size).toBe(1);
    expect([0, 1].map((i) => isolationGroupOf(i, 2))).toEqual(["group-1", "group-2"]);
  });
});

describe("placement reading", () => {
  const placement: Placement = {
    instances: {
      b: instance("b", 1, "1795532820000000000"),
      a: instance("a", 1, "1795532820000000000"),
      c: instance("c", 2, "1795532760000000000"),
      d: instance("d", 2, "1795532820000000000"),
    },
    replicaFactor: 2, numShards: 2, isSharded: true, cutoverTime: "0", isMirrored: true, maxShardSetId: 2,
  };

  test("shard sets group instances by shardSetId, sorted", () => {
    expect([...shardSetsOf(placement)]).toEqual([[1, ["a", "b"]], [2, ["c", "d"]]]);
  });

  test("immediate cutover sets every shard's cutover to 0 and changes nothing else", () => {
    const cut = withImmediateCutover(placement);
    const cutovers = (p: typeof placement) => Object.values(p.instances).flatMap((i) => i.shards.map((s) => s.cutoverNanos));
    expect(cutovers(placement)).toContain("1795532820000000000");
    expect(new Set(cutovers(cut))).toEqual(new Set(["0"]));
    expect(cut.instances.a!.shards.map((s) => s.cutoffNanos)).toEqual(["0", "0"]);
    expect({ ...cut, instances: {} }).toEqual({ ...placement, instances: {} });
    expect(placement.instances.a!.shards[0]!.cutoverNanos).toBe("1795532820000000000"); // input untouched
  });
});
