/**
 * Real metrics in, aggregated metrics out: the ingest client sends m3's raw TCP
 * protocol to a real 4-node rf-2 cluster whose leaders flush over m3msg to the
 * in-process sink. Default storage policy 10s:2d, so every assertion waits for
 * the windows to close and sums over the windows the sends fell in.
 */
import { M3IngestClient } from "../../src/ingest/client";
import { useM3AggregatorCluster } from "../../src/jest";
import type { AggregatedDatapoint } from "../../src/sink/codec";
import { uniqueClusterId } from "./helpers";

const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2, backend: "sink", clusterId: uniqueClusterId("ingest") });
const run = Math.random().toString(36).slice(2, 8); // ids unique to this run
const FLUSH_WAIT_MS = 60_000;

const sumOf = (points: AggregatedDatapoint[], id: string) => points.filter((p) => p.id === id).reduce((s, p) => s + p.value, 0);

describe("ingest client → cluster → sink", () => {
  test("10,000 increments of one counter over 20 connections arrive as exactly 10,000", async () => {
    const id = `c10k.${run}`;
    const clients = await Promise.all(Array.from({ length: 10 }, () => M3IngestClient.connect(m3.cluster, { connectionsPerEndpoint: 2 })));
    await Promise.all(clients.map(async (client) => {
      for (let i = 0; i < 1_000; i++) await client.counter(id, 1);
      await client.close();
    }));
    const total = await m3.cluster.sink.waitFor((points) => (sumOf(points, id) >= 10_000 ? sumOf(points, id) : undefined), { timeoutMs: FLUSH_WAIT_MS, what: `${id} to reach 10000` });
    expect(total).toBe(10_000);
    await new Promise((r) => setTimeout(r, 3_000)); // nothing more arrives later (no double counting)
    expect(m3.cluster.sink.sum(id)).toBe(10_000);
    expect(m3.cluster.sink.find(id).every((p) => p.storagePolicy.text === "10s:2d")).toBe(true);
  }, 120_000);

  test("100 counter ids each get their own sum", async () => {
    const client = await M3IngestClient.connect(m3.cluster);
    const ids = Array.from({ length: 100 }, (_, i) => `c100.${run}.${i}`);
    for (const [i, id] of ids.entries()) await client.counter(id, i + 1);
    await client.close();
    await m3.cluster.sink.waitFor((points) => ids.every((id, i) => sumOf(points, id) >= i + 1), { timeoutMs: FLUSH_WAIT_MS, what: "100 sums" });
    expect(ids.map((id) => m3.cluster.sink.sum(id))).toEqual(ids.map((_, i) => i + 1));
  }, 120_000);

  test("gauge: the last value wins", async () => {
    const id = `g.${run}`;
    const client = await M3IngestClient.connect(m3.cluster);
    for (const value of [5, 3, 8, 1, 42.5]) await client.gauge(id, value);
    await client.close();
    const latest = await m3.cluster.sink.waitFor((points) => {
      const mine = points.filter((p) => p.id === id).sort((a, b) => Number(a.timeNanos - b.timeNanos));
      return mine.length > 0 ? mine[mine.length - 1] : undefined;
    }, { timeoutMs: FLUSH_WAIT_MS, what: "the gauge" });
    expect(latest.value).toBe(42.5);
  }, 120_000);

  test("timer: count, min, max and p50 of one batch match what was sent", async () => {
    const id = `t.${run}`;
    const values = Array.from({ length: 100 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    const client = await M3IngestClient.connect(m3.cluster);
    await client.timer(id, values); // one batch timer frame: all values land in one window
    await client.close();
    const stats = await m3.cluster.sink.waitFor((points) => {
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
    const total = () => ids.reduce((s, id) => s + m3.cluster.sink.sum(id), 0);
    await m3.cluster.sink.waitFor(() => (total() >= 200_000 ? true : undefined), { timeoutMs: 90_000, what: "200000 increments" });
    expect(total()).toBe(200_000);
    expect(ids.every((id) => m3.cluster.sink.sum(id) === 200)).toBe(true);
    console.log(`200k increments sent in ${sendMs} ms (${Math.round(200_000 / (sendMs / 1000))}/s, each to 2 replicas)`);
  }, 180_000);

  test("malformed input drops only that connection; a following valid metric still aggregates", async () => {
    const node = m3.cluster.node(0);
    const keep = await M3IngestClient.connect(m3.cluster);
    await keep.counter(`before.${run}`, 1);
    await keep.flush();
    await m3.cluster.sendLines(node.id, ["metric.test 123.45 1700000000"]); // resolves once the node closed it
    await new Promise((r) => setTimeout(r, 200));
    expect(node.logLines().join("\n")).toContain("decode error");
    const id = `after.${run}`;
    await keep.counter(id, 7); // same client, its connections untouched
    await keep.close();
    expect(await m3.cluster.sink.waitFor((points) => (sumOf(points, id) === 7 ? 7 : undefined), { timeoutMs: FLUSH_WAIT_MS, what: id })).toBe(7);
    expect(Object.values(keep.stats()).every((s) => s.reconnects === 0)).toBe(true);
  }, 120_000);
});
