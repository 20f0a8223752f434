/**
 * Delivery under faults on a real 2-node rf-2 cluster (one shard set: a leader and a follower; election
 * TTL 5 s), sink backend. The oracle is the sink: totals are checked against what was sent (runLoad's
 * ledger and this file's own sums of the sink), never against the client's own counters. Each test is
 * bounded in time.
 */
import { M3IngestClient } from "../../src/ingest/client";
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { runLoad } from "../../src/load/run";
import { uniqueClusterId } from "./helpers";

const TTL_SECONDS = 5;
const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2, electionTtlSeconds: TTL_SECONDS, backend: "sink", clusterId: uniqueClusterId("delivery") });

async function roles(): Promise<{ leader: string; follower: string }> {
  const leader = await m3.cluster.waitForLeader(1);
  const follower = m3.cluster.nodes.map((n) => n.id).find((id) => id !== leader) as string;
  return { leader, follower };
}

/** The sink's total of one load's counters, summed here (not by runLoad). */
function sinkCounterTotal(prefix: string): number {
  return m3.cluster.getSink().datapoints().filter((p) => p.id.startsWith(`${prefix}.counter.`)).reduce((s, p) => s + p.value, 0);
}

describe("delivery under faults (issue 16)", () => {
  test("a paused node: close({ timeoutMs }) returns within it and reports loss for that endpoint only", async () => {
    const { leader, follower } = await roles();
    const node = m3.cluster.node(follower);
    const client = await M3IngestClient.connect(m3.cluster, { writeTimeoutMs: 120_000 });
    await node.pause();
    try {
      const long = "p".repeat(400);
      let sent = 0;
      // Enough bytes to fill the paused node's socket buffers, so something is still unwritten at close.
      const t0 = Date.now();
      while ((client.stats()[follower]?.drainWaits ?? 0) === 0 && Date.now() - t0 < 30_000) {
        const wait = client.counter(`${long}.${sent % 50}`, 1);
        sent++;
        if (wait !== undefined) await Promise.race([wait, new Promise((r) => setTimeout(r, 100))]);
        if (sent % 1000 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(client.stats()[follower]!.drainWaits).toBeGreaterThan(0);
      const closeStart = Date.now();
      const report = await client.close({ timeoutMs: 3_000 });
      const closeMs = Date.now() - closeStart;
      console.log(`paused node: ${sent} counters sent, close took ${closeMs} ms; ${follower}: ${JSON.stringify(report.endpoints[follower])}`);
      expect(closeMs).toBeLessThan(3_000 + 1_000);
      expect(report.endpoints[follower]!.lost).toBeGreaterThan(0);
      expect(report.endpoints[follower]!.lostBy["close timeout"]).toBeGreaterThan(0);
      expect(report.endpoints[leader]).toMatchObject({ queued: sent, written: sent, lost: 0, pending: 0 });
    } finally {
      await node.unpause();
    }
    await m3.cluster.waitForReady();
  }, 120_000);

  test("a follower dead for 45 s while counters flow: exact totals, no send throws, close() within its timeout", async () => {
    const { leader, follower } = await roles();
    const node = m3.cluster.node(follower);
    const timeline: string[] = [];
    const t0 = Date.now();
    const chaos = (async () => {
      await new Promise((r) => setTimeout(r, 5_000));
      await node.kill();
      timeline.push(`killed ${follower} at ${Date.now() - t0} ms`);
      await new Promise((r) => setTimeout(r, 45_000));
      await node.start();
      timeline.push(`restarted ${follower} at ${Date.now() - t0} ms`);
    })();
    // runLoad throws if a send throws; its close() is bounded by the client's 10 s default.
    const report = await runLoad(m3.cluster, { rate: 1_000, durationSeconds: 60, ids: 200, mix: { counter: 1 }, settleTimeoutSeconds: 90 });
    await chaos;
    console.log(`follower dead 45 s: ${timeline.join(", ")}; sent ${report.sent}, settled in ${report.settleMs} ms; ` +
      `delivery ${JSON.stringify(Object.fromEntries(Object.entries(report.delivery!.endpoints).map(([id, e]) => [id, { written: e.written, lost: e.lost, lostBy: e.lostBy, reconnects: e.reconnects }])))}`);
    expect(report.sent).toBeGreaterThan(50_000);
    expect(sinkCounterTotal(report.idPrefix)).toBe(report.sent); // every increment, exactly once, summed here
    expect(report.checks!.counter.mismatches).toBe(0);
    expect(report.conflicts).toBe(0);
    expect(report.ok).toBe(true);
    // The live leader got every frame; the dead follower's were counted lost (never silently).
    expect(report.delivery!.endpoints[leader]).toMatchObject({ lost: 0, pending: 0 });
    expect(report.delivery!.endpoints[leader]!.written).toBe(report.delivery!.endpoints[leader]!.queued);
    expect(report.delivery!.endpoints[follower]!.reconnects).toBeGreaterThanOrEqual(1);
    await m3.cluster.waitForReady();
  }, 240_000);

  test("the leader killed mid-load at a steady rate: every counter exact (untimed per id, timed per (id, window)), the follower gets every frame, 0 conflicts (re-flushed windows logged as the sink's duplicates)", async () => {
    const { leader, follower } = await roles();
    const t0 = Date.now();
    let failoverMs = -1;
    const chaos = (async () => {
      await new Promise((r) => setTimeout(r, 10_000));
      const killedAt = Date.now();
      await m3.cluster.node(leader).kill();
      await m3.cluster.waitForLeader(1, { not: leader, timeoutMs: (TTL_SECONDS + 15) * 1000 });
      failoverMs = Date.now() - killedAt;
    })();
    const duplicatesBefore = m3.cluster.getSink().stats().duplicates;
    const rate = 2_000;
    // m3 windows an untimed increment by its arrival at each replica: one that reaches leader and follower on
    // either side of a 10 s boundary is counted 0 or 2 times once the follower takes over (seen here without a
    // quiet margin: -9, -5, 0, 0 of ~60,000). The load keeps 250 ms off each boundary, so the check stays exact.
    const report = await runLoad(m3.cluster, { rate, durationSeconds: 30, ids: 500, mix: { counter: 1, timed: 1 }, settleTimeoutSeconds: 90, boundaryQuietMs: 250 });
    await chaos;
    const duplicates = m3.cluster.getSink().stats().duplicates - duplicatesBefore;
    const untimedDiff = sinkCounterTotal(report.idPrefix) - report.sentByType.counter;
    console.log(`leader ${leader} killed at 10 s of 30 s (${Date.now() - t0} ms in all): ${follower} led after ${failoverMs} ms; sent ${report.sent} ` +
      `(${report.sentByType.timed} timed), duplicates ${duplicates}, conflicts ${report.conflicts}; timed ${JSON.stringify(report.checks!.timed)}; ` +
      `untimed counters observed − sent = ${untimedDiff}; lost at the killed leader: ${report.delivery!.endpoints[leader]!.lost}; problems: ${JSON.stringify(report.problems)}`);
    expect(await m3.cluster.waitForLeader(1)).toBe(follower);
    expect(report.sent).toBeGreaterThan(50_000);
    expect(report.sentinel).toMatchObject({ seen: true });
    // Which instance flushed each window (the sink identifies each m3msg producer connection): the new leader
    // from the kill on; the old one before it, when its first flush of this run came before the kill (timing).
    console.log(`flushed by, per window end: ${JSON.stringify(report.flushedBy)}`);
    const flushers = new Set(Object.values(report.flushedBy!).flatMap((row) => Object.keys(row)));
    expect(flushers.has(follower)).toBe(true);
    expect([...flushers].every((f) => f === leader || f === follower)).toBe(true); // every producer identified by instance id
    // Timed counters carry the client's timestamp, so both replicas put each one in the same window, and the new
    // leader resumes where the old one's persisted flush times end: exact per (id, window).
    expect(report.checks!.timed.expected).toBeGreaterThan(500);
    expect(report.checks!.timed).toMatchObject({ mismatches: 0, matched: report.checks!.timed.expected });
    expect(report.conflicts).toBe(0);
    expect(m3.cluster.getSink().conflicts()).toEqual([]);
    expect(report.delivery!.endpoints[follower]).toMatchObject({ lost: 0, pending: 0 });
    expect(untimedDiff).toBe(0); // every untimed increment exactly once, summed here from the sink's raw datapoints
    expect(report.checks!.counter.mismatches).toBe(0);
    await m3.cluster.node(leader).start();
    await m3.cluster.waitForReady();
  }, 240_000);

  test("placement following: the client reads the coordinator's placement version, and a refresh costs one GET", async () => {
    const client = await M3IngestClient.connect(m3.cluster);
    const version = (await m3.cluster.admin.getPlacement("m3aggregator")).version;
    expect(client.placementVersion()).toBe(version);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = process.hrtime.bigint();
      await client.refreshPlacement();
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    console.log(`placement refresh (GET …/placement): median ${times[10]!.toFixed(1)} ms, max ${times[19]!.toFixed(1)} ms`);
    expect(await client.waitForPlacementVersion(version, { timeoutMs: 1_000 })).toBe(version);
    await client.close();
  }, 60_000);
});
