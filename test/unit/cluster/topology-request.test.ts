import { InvalidOptionError } from "../../../src/model/options";
import { assertNoChangeInFlight, TopologyBusyError, validateAddCount, validateRemove, validateReplace } from "../../../src/cluster/topology-request";
import type { Placement, PlacementInstance } from "../../../src/m3/types";

function inst(id: string, shardSetId: number, state: "AVAILABLE" | "LEAVING" = "AVAILABLE"): PlacementInstance {
  return {
    id, isolationGroup: "g", zone: "embedded", weight: 100, endpoint: "127.0.0.1:1", shardSetId, hostname: id, port: 6000,
    shards: [{ id: shardSetId, state, sourceId: "", cutoverNanos: "0", cutoffNanos: state === "LEAVING" ? "1" : "0" }],
  };
}
const p4x2: Placement = {
  instances: Object.fromEntries([inst("m3aggregator01", 1), inst("m3aggregator02", 1), inst("m3aggregator03", 2), inst("m3aggregator04", 2)].map((i) => [i.id, i])),
  replicaFactor: 2, numShards: 2, isSharded: true, cutoverTime: "0", isMirrored: true, maxShardSetId: 2,
};

test("addNodes count: a positive multiple of rf, else an option error naming the value and the rule", () => {
  expect(validateAddCount(2, 2)).toBe(2);
  expect(validateAddCount(4, 2)).toBe(4);
  for (const bad of [3, 1, 0, -2, 2.5, "2"]) {
    expect(() => validateAddCount(bad, 2)).toThrow(InvalidOptionError);
  }
  expect(() => validateAddCount(3, 2)).toThrow("invalid option count=3: must be a positive multiple of rf=2");
});

test("removeNodes: whole shard sets; half a set is refused naming its members", () => {
  expect(validateRemove(["m3aggregator04", "m3aggregator03"], p4x2)).toEqual(["m3aggregator03", "m3aggregator04"]);
  expect(() => validateRemove(["m3aggregator03"], p4x2)).toThrow(
    'invalid option ids=["m3aggregator03"]: removes part of shard set 2, whose members are m3aggregator03, m3aggregator04: m3 removes whole shard sets, so add m3aggregator04');
  expect(() => validateRemove(["m3aggregator09", "m3aggregator03"], p4x2)).toThrow(/m3aggregator09 is not an instance of the placement \(instances: m3aggregator01, m3aggregator02, m3aggregator03, m3aggregator04\)/);
  expect(() => validateRemove(["m3aggregator03", "m3aggregator03"], p4x2)).toThrow(/more than once/);
  expect(() => validateRemove([], p4x2)).toThrow(InvalidOptionError);
  expect(() => validateRemove(["m3aggregator01", "m3aggregator02", "m3aggregator03", "m3aggregator04"], p4x2)).toThrow(/at least one must stay/);
});

test("replaceNode: a known id", () => {
  expect(validateReplace("m3aggregator02", p4x2)).toBe("m3aggregator02");
  expect(() => validateReplace("m3aggregator07", p4x2)).toThrow('invalid option id="m3aggregator07": must be an instance of the placement (instances: m3aggregator01, m3aggregator02, m3aggregator03, m3aggregator04)');
});

test("a change while shards still move is refused", () => {
  expect(() => assertNoChangeInFlight(p4x2)).not.toThrow();
  const busy = { ...p4x2, instances: { ...p4x2.instances, m3aggregator03: inst("m3aggregator03", 2, "LEAVING") } };
  expect(() => assertNoChangeInFlight(busy)).toThrow(TopologyBusyError);
  expect(() => assertNoChangeInFlight(busy)).toThrow(/1 shards are moving \(m3aggregator03 \(LEAVING\)\)/);
});

test("per-call options: the margin must exceed the ingest client's update bound; resolutions whole ms", () => {
  const { validateTopologyOptions } = require("../../../src/cluster/topology") as typeof import("../../../src/cluster/topology");
  expect(() => validateTopologyOptions({ propagationMarginMs: 5_000, resolutionsMs: [10_000, 60_000], timeoutMs: 60_000 })).not.toThrow();
  expect(() => validateTopologyOptions({ propagationMarginMs: 1_000 })).toThrow(/invalid option propagationMarginMs=1000: must be a whole number of ms above the ingest client's placement-update bound \(2000 ms\)/);
  expect(() => validateTopologyOptions({ resolutionsMs: [] })).toThrow(InvalidOptionError);
  expect(() => validateTopologyOptions({ resolutionsMs: [10.5] })).toThrow(/resolutionsMs/);
  expect(() => validateTopologyOptions({ timeoutMs: 0 })).toThrow(/timeoutMs=0/);
});
