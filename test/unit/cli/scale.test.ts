import { parseArgs, UsageError } from "../../../src/cli/args";
import { formatChange, formatShardStates } from "../../../src/cli/scale";
import type { TopologyChange } from "../../../src/cluster/topology";
import type { Placement } from "../../../src/m3/types";

describe("m3agg scale", () => {
  test("exactly one of --add N, --remove ID,ID, --replace ID; --cluster and --json", () => {
    expect(parseArgs(["scale", "--add", "2"], {})).toEqual({ command: "scale", target: { clusterId: undefined }, json: false, action: { add: 2 } });
    expect(parseArgs(["scale", "--remove", "m3aggregator03,m3aggregator04", "--cluster", "c1", "--json"], {})).toEqual({
      command: "scale", target: { clusterId: "c1" }, json: true, action: { remove: ["m3aggregator03", "m3aggregator04"] },
    });
    expect(parseArgs(["scale", "--replace", "m3aggregator01"], {})).toMatchObject({ action: { replace: "m3aggregator01" } });
  });

  test.each([
    [["scale"], /exactly one of --add N, --remove ID,ID, --replace ID/],
    [["scale", "--add", "2", "--replace", "m3aggregator01"], /exactly one of/],
    [["scale", "--add", "two"], /--add takes a whole number, got "two"/],
    [["scale", "--remove", ","], /--remove takes instance ids/],
    [["scale", "m3aggregator01"], /scale takes no arguments/],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(UsageError);
    expect(() => parseArgs(argv, {})).toThrow(message);
  });
});

test("status lines: each instance's shard states with cutover and cutoff", () => {
  const T = "1796131730000000000";
  const placement = {
    instances: {
      m3aggregator01: { id: "m3aggregator01", shardSetId: 1, shards: [
        { id: 0, state: "AVAILABLE", sourceId: "", cutoverNanos: "0", cutoffNanos: "0" },
        { id: 1, state: "LEAVING", sourceId: "", cutoverNanos: "0", cutoffNanos: T },
      ] },
      m3aggregator03: { id: "m3aggregator03", shardSetId: 2, shards: [{ id: 1, state: "INITIALIZING", sourceId: "m3aggregator01", cutoverNanos: T, cutoffNanos: "0" }] },
    },
  } as unknown as Placement;
  expect(formatShardStates(placement)).toEqual([
    "shard set 1 m3aggregator01: 1 AVAILABLE (cutover -, cutoff -), 1 LEAVING (cutover -, cutoff 2026-12-01T13:28:50Z)",
    "shard set 2 m3aggregator03: 1 INITIALIZING (cutover 2026-12-01T13:28:50Z, cutoff -)",
  ]);
});

test("a change prints versions, T, phases and leaders", () => {
  const change: TopologyChange = {
    kind: "add", added: ["m3aggregator03", "m3aggregator04"], removed: [],
    placementVersions: { before: 2, adminCall: 3, changeTime: 4, after: 5 },
    coordinatorChangeTime: "2026-12-01T13:29:00.000Z", changeTime: "2026-12-01T13:28:50.000Z", changeTimeMs: 1796131730000,
    placementWrittenAtMs: 1796131718326, leavingFlushedAtMs: 1796131750184,
    phasesMs: { containerStart: 973, adminCall: 37, cutoverWait: 11722, cutoffAndFlush: 20134, finalize: 45, election: 14, removal: 0 },
    totalMs: 37974, leadersBefore: { 1: "m3aggregator02" }, leadersAfter: { 1: "m3aggregator02", 2: "m3aggregator04" },
    shardSetsBefore: {}, shardSetsAfter: {},
  };
  expect(formatChange(change).split("\n")).toEqual([
    "add: +[m3aggregator03, m3aggregator04] -[] in 38.0s",
    "placement versions: 2 -> 3 (admin call) -> 4 (cutover rewrite) -> 5 (final)",
    "cutover = cutoff T: 2026-12-01T13:28:50.000Z (the coordinator chose 2026-12-01T13:29:00.000Z)",
    "phases: containerStart 1.0s, adminCall 0.0s, cutoverWait 11.7s, cutoffAndFlush 20.1s, finalize 0.0s, election 0.0s, removal 0.0s",
    "leaders before: 1=m3aggregator02; after: 1=m3aggregator02 2=m3aggregator04",
  ]);
});
