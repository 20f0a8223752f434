/**
 * Live topology on m3 v1.5.0 under the same steady load as topology.test.ts (v1.6.0): add, replace
 * (the leader), remove, each checked per id and per window, one leader per shard set, containers gone.
 */
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { uniqueClusterId } from "./helpers";
import { topologyChecks } from "./steady-load";

const m3 = useM3AggregatorCluster({ m3Version: "v1.5.0", nodes: 2, rf: 2, backend: "sink", clusterId: uniqueClusterId("topology-v150") });
const { underLoad, expectExactlyOnce, expectSettled } = topologyChecks(() => m3.cluster);

describe("live topology under load on m3 v1.5.0", () => {
  test("add: 2 -> 4", async () => {
    expect(m3.cluster.getM3Version()).toBe("v1.5.0");
    const run = await underLoad(() => m3.cluster.addNodes(2));
    expect(run.result.nodes.map((n) => n.id)).toEqual(["m3aggregator03", "m3aggregator04"]);
    expectExactlyOnce(run);
    await expectSettled(run.result.change);
  }, 300_000);

  test("replace the leader of shard set 2", async () => {
    const leader = await m3.cluster.waitForLeader(2);
    const run = await underLoad(() => m3.cluster.replaceNode(leader));
    expect(run.result.change.removed).toEqual([leader]);
    expect(run.result.change.shardSetsAfter["2"]).toContain(run.result.node.id);
    expectExactlyOnce(run);
    await expectSettled(run.result.change);
  }, 300_000);

  test("remove: 4 -> 2", async () => {
    const members = (await m3.cluster.shardSets()).get(1) as string[];
    const run = await underLoad(() => m3.cluster.removeNodes(members));
    expect(Object.keys(run.result.shardSetsAfter)).toEqual(["2"]);
    expectExactlyOnce(run);
    await expectSettled(run.result);
  }, 300_000);
});
