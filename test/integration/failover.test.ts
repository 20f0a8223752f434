/**
 * Failure injection on a real 4-node rf-2 cluster: kill, resign, pause,
 * restart. Election TTL 5 s so a killed leader is replaced quickly.
 */
import { M3IngestClient } from "../../src/ingest/client";
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { uniqueClusterId } from "./helpers";

const TTL_SECONDS = 5;
const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2, electionTtlSeconds: TTL_SECONDS, backend: "sink", clusterId: uniqueClusterId("failover") });

async function membersOf(shardSetId: number): Promise<string[]> {
  return (await m3.cluster.shardSets()).get(shardSetId) ?? [];
}

describe("failure injection", () => {
  test("kill the leader: the follower leads within the election TTL, a counter sent before and after still aggregates; the killed node comes back as follower", async () => {
    // A counter whose shard belongs to shard set 1.
    const client = await M3IngestClient.connect(m3.cluster);
    const members1 = await membersOf(1);
    let id = "";
    for (let i = 0; ; i++) {
      id = `failover.${Date.now()}.${i}`;
      if (members1.includes(client.router.replicasOf(id)[0] as string)) break;
    }
    await client.counter(id, 3);
    await client.flush();
    await m3.cluster.getSink().waitFor((points) => points.some((p) => p.id === id), { timeoutMs: 40_000, what: "the counter before the kill" });

    const leader = await m3.cluster.waitForLeader(1);
    const follower = (await membersOf(1)).find((id) => id !== leader)!;
    const killedAt = Date.now();
    await m3.cluster.node(leader).kill();
    expect(await m3.cluster.node(leader).state()).toBe("exited");
    const next = await m3.cluster.waitForLeader(1, { not: leader, timeoutMs: (TTL_SECONDS + 10) * 1000 });
    const failoverMs = Date.now() - killedAt;
    expect(next).toBe(follower);
    expect(failoverMs).toBeLessThan((TTL_SECONDS + 5) * 1000);
    // The other shard set is unaffected.
    expect((await m3.cluster.leaders()).get(2)).toBeDefined();

    // Sent to both replicas by the client; only the new leader is alive to flush it.
    await client.counter(id, 4);
    await client.close();
    expect(await m3.cluster.getSink().waitFor((points) => {
      const total = points.filter((p) => p.id === id).reduce((s, p) => s + p.value, 0);
      return total === 7 ? total : undefined;
    }, { timeoutMs: 40_000, what: `${id} to total 7 after failover` })).toBe(7);

    // The new leader flushes again what the old one may already have flushed: same values (duplicates), never others.
    const sinkStats = m3.cluster.getSink().stats();
    expect(sinkStats.conflicts).toBe(0);
    expect(m3.cluster.getSink().conflicts()).toEqual([]);
    expect(sinkStats.messages).toBe(m3.cluster.getSink().datapoints().length + sinkStats.duplicates);

    await m3.cluster.node(leader).start();
    await m3.cluster.waitForReady();
    const set = (await m3.cluster.election()).find((s) => s.shardSetId === 1)!;
    expect(set.leader).toBe(follower);
    expect(set.members.find((m) => m.id === leader)?.electionState).toBe("follower");
  }, 120_000);

  test("resign(): leadership moves to the other replica, and back", async () => {
    const first = await m3.cluster.waitForLeader(2);
    await m3.cluster.node(first).resign();
    const second = await m3.cluster.waitForLeader(2, { not: first, timeoutMs: 15_000 });
    expect(second).not.toBe(first);
    await m3.cluster.waitForReady(); // the resigned node re-joins as a verified follower
    await m3.cluster.node(second).resign();
    expect(await m3.cluster.waitForLeader(2, { not: second, timeoutMs: 15_000 })).toBe(first);
  }, 60_000);

  test("pause()/unpause(): the frozen node comes back healthy and rejoins as follower", async () => {
    const leader = await m3.cluster.waitForLeader(1);
    const follower = (await membersOf(1)).find((id) => id !== leader)!;
    const node = m3.cluster.node(follower);
    await node.pause();
    expect(await node.state()).toBe("paused");
    expect(await node.api.isHealthy(500)).toBe(false);
    await node.unpause();
    expect(await node.state()).toBe("running");
    expect(await node.api.isHealthy()).toBe(true);
    const set = (await m3.cluster.waitForReady()).find((s) => s.shardSetId === 1)!;
    expect(set.members.find((m) => m.id === follower)?.electionState).toBe("follower");
  }, 60_000);

  test("restart(): same ports, same id, healthy, placement unchanged, and its raw TCP port takes metrics again", async () => {
    const node = m3.cluster.node(2);
    const before = { id: node.id, tcp: node.getTcpPort(), http: node.getHttpPort(), metrics: node.getMetricsPort(), container: node.getId() };
    const placementBefore = await m3.cluster.placement();
    await node.restart();
    expect({ id: node.id, tcp: node.getTcpPort(), http: node.getHttpPort(), metrics: node.getMetricsPort(), container: node.getId() }).toEqual(before);
    expect(await node.api.isHealthy()).toBe(true);
    await m3.cluster.waitForReady();
    expect(await m3.cluster.placement()).toEqual(placementBefore);
    // Logs keep flowing after the restart.
    const lines = node.logLines();
    const marker = lines.lastIndexOf(`--- ${node.id} (re)started ---`);
    expect(marker).toBeGreaterThan(0);
    expect(lines.slice(marker + 1).some((l) => l.includes("election state changed") || l.includes("\"level\""))).toBe(true);

    // Use the TCP port after the restart: make the node lead its shard set, send a counter of one of its
    // shards to it alone, and see the sink receive it (only this node can have flushed it).
    const setId = placementBefore.instances[node.id]!.shardSetId;
    const leader = await m3.cluster.waitForLeader(setId);
    if (leader !== node.id) {
      await m3.cluster.node(leader).resign();
      expect(await m3.cluster.waitForLeader(setId, { not: leader, timeoutMs: 15_000 })).toBe(node.id);
    }
    const shards = new Set(placementBefore.instances[node.id]!.shards.map((s) => s.id));
    const client = await M3IngestClient.connect(placementBefore);
    const stamp = Date.now();
    let i = 0;
    while (!shards.has(client.router.shardOf(`restarted.${stamp}.${i}`))) i++;
    const id = `restarted.${stamp}.${i}`;
    await client.sendTo(node.id, { type: "counter", id, value: 11 });
    await client.close();
    expect(client.stats()[node.id]).toMatchObject({ queued: 1, written: 1, lost: 0, reconnects: 0 });
    expect(await m3.cluster.getSink().waitFor((points) => points.find((p) => p.id === id)?.value, { timeoutMs: 40_000, what: `${id} via the restarted node` })).toBe(11);
  }, 90_000);

  test("etcd and the coordinator have the same controls: a paused coordinator comes back", async () => {
    await m3.cluster.coordinator.pause();
    expect(await m3.cluster.admin.isHealthy()).toBe(false);
    await m3.cluster.coordinator.unpause();
    expect(await m3.cluster.admin.isHealthy()).toBe(true);
    expect(Object.keys((await m3.cluster.placement()).instances)).toHaveLength(4);
  }, 60_000);

  test("writeLogs() writes one file per container", async () => {
    const fs = await import("node:fs");
    const path = await import("node:path");
    const os = await import("node:os");
    const folder = m3.cluster.writeLogs(fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-logs-")));
    expect(fs.readdirSync(folder).sort()).toEqual(["etcd.log", "m3aggregator01.log", "m3aggregator02.log", "m3aggregator03.log", "m3aggregator04.log", "m3coordinator.log"]);
    expect(fs.readFileSync(path.join(folder, "m3aggregator01.log"), "utf8")).toContain("\"level\"");
    fs.rmSync(path.dirname(folder), { recursive: true });
  });
});
