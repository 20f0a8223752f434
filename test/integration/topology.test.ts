/**
 * Live topology on a real cluster under a steady load (5,000 counter increments/s over 1,000 ids):
 * grow 2 → 4, replace a leader, replace a follower, shrink 4 → 2, two changes back to back. After
 * each: every id's total exact, every window present, no conflicting value for a window, one leader
 * per shard set with verified followers, the removed containers gone (asked from Docker).
 * Bad requests fail with option errors before any call. M3AGG_M3_VERSION selects the m3 release.
 */
import { InvalidOptionError } from "../../src/model/options";
import type { TopologyChange } from "../../src/cluster/topology";
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { poll } from "../../src/util/poll";
import { clusterContainers, uniqueClusterId } from "./helpers";
import { checkWindows, type SentCounters, startSteadyLoad, type WindowCheck } from "./steady-load";

const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2, backend: "sink", clusterId: uniqueClusterId("topology") });
const RATE = 5_000;
const IDS = 1_000;

/** Runs `change` under the steady load (3 s of load before and after), then checks every window in the sink. */
async function underLoad<T>(change: () => Promise<T>): Promise<{ result: T; sent: SentCounters; check: WindowCheck }> {
  const cluster = m3.cluster;
  const load = await startSteadyLoad(cluster, { rate: RATE, ids: IDS, maxSeconds: 240 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const result = await change();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const { placement } = await cluster.admin.getPlacement("m3aggregator");
    expect(load.client.router.instances().sort()).toEqual(Object.keys(placement.instances).sort()); // the client routes by the final placement
    const sent = await load.stop();
    let check: WindowCheck | undefined;
    // The last windows are flushed once they close (10 s windows): wait until the totals are whole.
    await poll(() => {
      check = checkWindows(cluster.getSink().datapoints(), sent);
      return check.wrongTotals.length === 0 ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: "every id's total in the sink" }).catch(() => undefined);
    return { result, sent, check: check as WindowCheck };
  } catch (error) {
    await load.stop().catch(() => undefined);
    throw error;
  }
}

function expectExactlyOnce({ sent, check }: { sent: SentCounters; check: WindowCheck }): void {
  expect(sent.total).toBeGreaterThan(RATE * 10); // the change ran under load
  expect(check.wrongTotals.slice(0, 5)).toEqual([]);
  expect(check.conflicts).toBe(0);
  expect(check.missing.slice(0, 5)).toEqual([]);
}

async function expectSettled(change: TopologyChange): Promise<void> {
  const election = await m3.cluster.waitForReady({ timeoutMs: 30_000 });
  expect(election.every((s) => s.leader !== undefined)).toBe(true);
  expect(Object.values(change.leadersAfter).every((l) => l !== null)).toBe(true);
  const placement = await m3.cluster.placement();
  for (const instance of Object.values(placement.instances)) {
    for (const shard of instance.shards) expect(shard.state).toBe(shard.cutoverNanos === "0" ? "INITIALIZING" : "AVAILABLE");
  }
  const containers = await clusterContainers(m3.cluster.getId());
  for (const id of change.removed) expect(containers.some((name) => name.includes(id))).toBe(false);
  expect(m3.cluster.nodes.map((n) => n.id).sort()).toEqual(Object.keys(placement.instances).sort());
  // T on a 10 s boundary, written more than the margin before it.
  expect(change.changeTimeMs % 10_000).toBe(0);
  expect(change.changeTimeMs - change.placementWrittenAtMs).toBeGreaterThan(1_000);
}

describe("live topology under load", () => {
  test("bad requests fail with option errors before any call: addNodes(3) with rf 2, half a shard set, an unknown id", async () => {
    const before = await m3.cluster.admin.getPlacement("m3aggregator");
    const containers = await clusterContainers(m3.cluster.getId());
    await expect(m3.cluster.addNodes(3)).rejects.toThrow(InvalidOptionError);
    await expect(m3.cluster.addNodes(3)).rejects.toThrow("invalid option count=3: must be a positive multiple of rf=2");
    await expect(m3.cluster.removeNodes(["m3aggregator01"])).rejects.toThrow(/removes part of shard set 1, whose members are m3aggregator01, m3aggregator02/);
    await expect(m3.cluster.replaceNode("m3aggregator09")).rejects.toThrow(/invalid option id="m3aggregator09": must be an instance of the placement/);
    expect((await m3.cluster.admin.getPlacement("m3aggregator")).version).toBe(before.version);
    expect((await clusterContainers(m3.cluster.getId())).sort()).toEqual(containers.sort());
  });

  test("grow 2 -> 4: a new shard set takes half the shards, every window once", async () => {
    const run = await underLoad(() => m3.cluster.addNodes());
    const { nodes, change } = run.result;
    expect(nodes.map((n) => n.id)).toEqual(["m3aggregator03", "m3aggregator04"]);
    expect(Object.keys(change.shardSetsAfter)).toHaveLength(2);
    expectExactlyOnce(run);
    await expectSettled(change);
    console.log(`grow 2->4: ${JSON.stringify({ phasesMs: change.phasesMs, totalMs: change.totalMs, duplicates: run.check.duplicates })}`);
  }, 300_000);

  test("replace the leader of a shard set: the new node takes its shard set, the old container is removed", async () => {
    const leader = await m3.cluster.waitForLeader(1);
    const run = await underLoad(() => m3.cluster.replaceNode(leader));
    const { node, change } = run.result;
    expect(change.removed).toEqual([leader]);
    expect(change.shardSetsAfter["1"]).toContain(node.id);
    expect(change.shardSetsAfter["1"]).not.toContain(leader);
    expect(change.leadersBefore["1"]).toBe(leader);
    expectExactlyOnce(run);
    await expectSettled(change);
  }, 300_000);

  test("replace a follower", async () => {
    const leader = await m3.cluster.waitForLeader(2);
    const follower = (await m3.cluster.shardSets()).get(2)?.find((id) => id !== leader) as string;
    const run = await underLoad(() => m3.cluster.replaceNode(follower));
    const { change } = run.result;
    expect(change.removed).toEqual([follower]);
    expect(change.leadersAfter["2"]).toBe(leader); // the leader keeps leading
    expectExactlyOnce(run);
    await expectSettled(change);
  }, 300_000);

  test("shrink 4 -> 2: a whole shard set leaves, its shards move to the other", async () => {
    const members = (await m3.cluster.shardSets()).get(2) as string[];
    const run = await underLoad(() => m3.cluster.removeNodes(members));
    expect(run.result.removed).toEqual([...members].sort());
    expect(Object.keys(run.result.shardSetsAfter)).toEqual(["1"]);
    expectExactlyOnce(run);
    await expectSettled(run.result);
  }, 300_000);

  test("two changes back to back: add a shard set, then at once remove the other one", async () => {
    const run = await underLoad(async () => {
      const old = (await m3.cluster.shardSets()).get(1) as string[];
      const added = m3.cluster.addNodes(2);
      const removed = m3.cluster.removeNodes(old); // queued: starts when the add is complete
      return { added: await added, removed: await removed };
    });
    expect(run.result.removed.placementVersions.before).toBeGreaterThanOrEqual(run.result.added.change.placementVersions.after);
    expect(m3.cluster.nodes).toHaveLength(2);
    expectExactlyOnce(run);
    await expectSettled(run.result.removed);
  }, 400_000);
});
