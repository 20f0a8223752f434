import { describeElection, isElectionSettled, type ShardSetElection } from "../../../src/cluster/readiness";

const set = (id: number, ...states: Array<[string, string]>): ShardSetElection => ({
  shardSetId: id,
  leader: undefined,
  members: states.map(([memberId, electionState]) => ({ id: memberId, electionState: electionState as never, canLead: electionState === "leader" })),
});

describe("election readiness", () => {
  test("settled: one leader and verified followers in every shard set", () => {
    expect(isElectionSettled([set(1, ["a", "leader"], ["b", "follower"]), set(2, ["c", "follower"], ["d", "leader"])])).toBe(true);
  });

  test.each([
    ["no leader yet", [set(1, ["a", "follower"], ["b", "follower"])]],
    ["two leaders", [set(1, ["a", "leader"], ["b", "leader"])]],
    ["a pending follower", [set(1, ["a", "leader"], ["b", "pendingFollower"])]],
    ["an unreachable member", [set(1, ["a", "leader"], ["b", "unknown"])]],
    ["one settled set and one not", [set(1, ["a", "leader"], ["b", "follower"]), set(2, ["c", "follower"], ["d", "follower"])]],
  ])("not settled with %s", (_, elections) => {
    expect(isElectionSettled(elections)).toBe(false);
  });

  test("description names every member's state", () => {
    expect(describeElection([set(1, ["a", "leader"], ["b", "follower"])])).toBe("shard set 1: a=leader, b=follower(canLead=false)");
  });
});
