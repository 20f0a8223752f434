/**
 * Real metrics in, aggregated metrics out: the ingest client sends m3's raw TCP
 * protocol to a real 4-node rf-2 cluster whose leaders flush over m3msg to the
 * in-process sink. Default storage policy 10s:2d, so every assertion waits for
 * the windows to close and sums over the windows the sends fell in.
 */
import { M3IngestClient } from "../../src/ingest/client";
import { useM3AggregatorCluster } from "../../src/jest/helper";
import type { AggregatedDatapoint } from "../../src/sink/codec";
import { poll } from "../../src/util/poll";
import { uniqueClusterId } from "./helpers";

const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2, backend: "sink", clusterId: uniqueClusterId("ingest") });
const run = Math.random().toString(36).slice(2, 8); // ids unique to this run
const FLUSH_WAIT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A sentinel window: once the window now open has ended, a counter of the same shard as `id` (so the same
 * leader flushes it, after every earlier window of that shard). When the sink has it, every window of `id`
 * up to then has been flushed: what `id` shows afterwards is final, no "wait and hope nothing else comes".
 */
async function sentinelAfter(id: string): Promise<void> {
  const client = await M3IngestClient.connect(m3.cluster, { followPlacement: false });
  const shard = client.router.shardOf(id);
  let sentinel = "";
  for (let i = 0; ; i++) {
    sentinel = `sentinel.${run}.${id}.${i}`;
    if (client.router.shardOf(sentinel) === shard) break;
  }
  await sleep((Math.floor(Date.now() / 10_000) + 1) * 10_000 + 500 - Date.now()); // a clock time: the next window
  await client.counter(sentinel, 1);
  await client.close();
  await m3.cluster.getSink().waitFor((points) => points.some((p) => p.id === sentinel) || undefined, { timeoutMs: FLUSH_WAIT_MS, what: `sentinel ${sentinel}` });
}
const sumOf = (points: AggregatedDatapoint[], id: string) => points.filter((p) => p.id === id).reduce((s, p) => s + p.value, 0);

describe("ingest client → cluster → sink", () => {
  test("10,000 increments of one counter over 20 connections arrive as exactly 10,000", async () => {
    const id = `c10k.${run}`;
    const clients = await Promise.all(Array.from({ length: 10 }, () => M3IngestClient.connect(m3.cluster, { connectionsPerEndpoint: 2 })));
    await Promise.all(clients.map(async (client) => {
      for (let i = 0; i < 1_000; i++) await client.counter(id, 1);
      await client.close();
    }));
    const total = await m3.cluster.getSink().waitFor((points) => (sumOf(points, id) >= 10_000 ? sumOf(points, id) : undefined), { timeoutMs: FLUSH_WAIT_MS, what: `${id} to reach 10000` });
    expect(total).toBe(10_000);
    await sentinelAfter(id); // every window of id has flushed: an over-count would show now
    expect(m3.cluster.getSink().sum(id)).toBe(10_000);
    expect(m3.cluster.getSink().find(id).every((p) => p.storagePolicy.text === "10s:2d")).toBe(true);
  }, 120_000);

  test("100 counter ids each get their own sum", async () => {
    const client = await M3IngestClient.connect(m3.cluster);
    const ids = Array.from({ length: 100 }, (_, i) => `c100.${run}.${i}`);
    for (const [i, id] of ids.entries()) await client.counter(id, i + 1);
    await client.close();
    await m3.cluster.getSink().waitFor((points) => ids.every((id, i) => sumOf(points, id) >= i + 1), { timeoutMs: FLUSH_WAIT_MS, what: "100 sums" });
    expect(ids.map((id) => m3.cluster.getSink().sum(id))).toEqual(ids.map((_, i) => i + 1));
  }, 120_000);

  test("gauge: the last value wins (not the max, min, first, sum or mean)", async () => {
    const id = `g.${run}`;
    // 42.5 is none of max 300, min -2, first 5, sum 353.5, mean 70.7 of these: only Last yields it.
    const values = [5, 300, -2, 8, 42.5];
    const client = await M3IngestClient.connect(m3.cluster);
    // All in one 10 s window (a node stamps untimed metrics on arrival, with this host's clock): send early in a window.
    while (Date.now() % 10_000 > 5_000) await sleep(100);
    for (const value of values) await client.gauge(id, value);
    await client.close();
    await m3.cluster.getSink().waitFor((points) => (points.some((p) => p.id === id) ? true : undefined), { timeoutMs: FLUSH_WAIT_MS, what: "the gauge" });
    await sentinelAfter(id); // no later window of the gauge can still arrive
    expect(m3.cluster.getSink().find(id).map((p) => p.value)).toEqual([42.5]);
  }, 120_000);

  test("timer: count, min, max and p50 of one batch match what was sent", async () => {
    const id = `t.${run}`;
    const values = Array.from({ length: 100 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    const client = await M3IngestClient.connect(m3.cluster);
    await client.timer(id, values); // one batch timer frame: all values land in one window
    await client.close();
    const stats = await m3.cluster.getSink().waitFor((points) => {
      const get = (suffix: string) => points.find((p) => p.id === `${id}.${suffix}`)?.value;
      const all = { count: get("count"), lower: get("lower"), upper: get("upper"), p50: get("p50"), sum: get("sum") };
      return Object.values(all).every((v) => v !== undefined) ? all : undefined;
    }, { timeoutMs: FLUSH_WAIT_MS, what: "timer aggregations" });
    expect(stats).toEqual({ count: 100, lower: 1, upper: 100, p50: 50, sum: 5050 });
  }, 120_000);

  test("a stream of 200,000 increments sent as fast as the client can: nothing lost", async () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => `s200k.${run}.${i}`);
    const client = await M3IngestClient.connect(m3.cluster, { connectionsPerEndpoint: 2 });
    const t0 = Date.now();
    for (let round = 0; round < 200; round++) for (const id of ids) await client.counter(id, 1);
    await client.close();
    const sendMs = Date.now() - t0;
    const total = () => ids.reduce((s, id) => s + m3.cluster.getSink().sum(id), 0);
    await m3.cluster.getSink().waitFor(() => (total() >= 200_000 ? true : undefined), { timeoutMs: 90_000, what: "200000 increments" });
    expect(total()).toBe(200_000);
    expect(ids.every((id) => m3.cluster.getSink().sum(id) === 200)).toBe(true);
    console.log(`200k increments sent in ${sendMs} ms (${Math.round(200_000 / (sendMs / 1000))}/s, each to 2 replicas)`);
  }, 180_000);

  test("malformed input drops only that connection; the node's other connection still delivers a valid metric", async () => {
    // The node under test leads shard set 1, and metrics of its shards are sent to it alone: they reach the sink only through it.
    const nodeId = await m3.cluster.waitForLeader(1);
    const node = m3.cluster.node(nodeId);
    const placement = await m3.cluster.placement();
    const shards = new Set(placement.instances[nodeId]!.shards.map((s) => s.id));
    const keep = await M3IngestClient.connect(placement);
    const idOnNode = (prefix: string): string => {
      for (let i = 0; ; i++) if (shards.has(keep.router.shardOf(`${prefix}.${run}.${i}`))) return `${prefix}.${run}.${i}`;
    };
    const before = idOnNode("before");
    const after = idOnNode("after");
    await keep.sendTo(nodeId, { type: "counter", id: before, value: 1 });
    await keep.flush(); // keep's connection to this node is open now
    await m3.cluster.sendLines(nodeId, ["metric.test 123.45 1700000000"]); // a second connection; resolves once the node closed it
    await poll(() => (node.logLines().join("\n").includes("decode error") ? true : undefined), { timeoutMs: 10_000, intervalMs: 20, what: `${nodeId} to log the decode error` });
    await keep.sendTo(nodeId, { type: "counter", id: after, value: 7 }); // the first connection, untouched
    await keep.close();
    // Both ids: they are flushed as separate m3msg messages (often on different connections), so either may come first.
    const both = await m3.cluster.getSink().waitFor((points) => {
      const sums = { before: sumOf(points, before), after: sumOf(points, after) };
      return sums.before >= 1 && sums.after >= 7 ? sums : undefined;
    }, { timeoutMs: FLUSH_WAIT_MS, what: `${before} and ${after}` });
    expect(both).toEqual({ before: 1, after: 7 });
    expect(keep.stats()[nodeId]).toMatchObject({ queued: 2, written: 2, lost: 0, reconnects: 0 });
  }, 120_000);

  test("the sink's counts add up: every message kept once or counted as a duplicate; no conflicting values, no garbage", () => {
    const sink = m3.cluster.getSink();
    const stats = sink.stats();
    expect(sink.datapoints().length).toBeGreaterThanOrEqual(1_000); // the stream test above alone flushed 1,000 ids
    expect(stats.messages).toBe(sink.datapoints().length + stats.duplicates + stats.conflicts);
    expect(stats.conflicts).toBe(0); // one window flushed twice with different values would double count or lose data
    expect(sink.conflicts()).toEqual([]);
    expect(stats.decodeErrors).toBe(0);
    expect(stats.acked).toBe(stats.messages);
  });
});
