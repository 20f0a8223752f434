/** The sink over real TCP on 127.0.0.1, with this test acting as the m3msg producer. */
import * as net from "node:net";
import { decodeAck, encodeAggregatedMetric, encodeMessage, FrameReader, type MsgMetadata } from "../../../src/sink/codec";
import { M3MsgSink } from "../../../src/sink/sink";

const point = (id: string, window: number, value: number) => encodeAggregatedMetric({
  id, timeNanos: BigInt(window) * 10_000_000_000n, value, resolutionNanos: 10_000_000_000n, retentionNanos: 172_800_000_000_000n,
});

/** A producer connection that collects the acks it receives. */
async function producer(sink: M3MsgSink): Promise<{ socket: net.Socket; acks: MsgMetadata[]; closed: Promise<void> }> {
  const socket = net.connect({ host: sink.host, port: sink.port });
  await new Promise((resolve) => socket.once("connect", resolve));
  const acks: MsgMetadata[] = [];
  const reader = new FrameReader();
  socket.on("data", (chunk: Buffer) => { for (const body of reader.push(chunk)) acks.push(...decodeAck(body)); });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, acks, closed };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("M3MsgSink", () => {
  let sink: M3MsgSink;
  beforeEach(async () => { sink = await M3MsgSink.start(); });
  afterEach(async () => { await sink.stop(); });

  test("acks every message on its own connection, even when frames arrive split at odd byte boundaries", async () => {
    const p = await producer(sink);
    const messages = Array.from({ length: 500 }, (_, i) => encodeMessage({ shard: BigInt(i % 64), id: BigInt(i), sentAtNanos: 99n }, point(`m${i}`, 1, i)));
    const stream = Buffer.concat(messages);
    for (let offset = 0; offset < stream.length; offset += 37) p.socket.write(stream.subarray(offset, offset + 37));
    await until(() => p.acks.length === 500, "500 acks");
    expect(p.acks.map((a) => a.id)).toEqual(Array.from({ length: 500 }, (_, i) => BigInt(i)));
    expect(p.acks.every((a, i) => a.shard === BigInt(i % 64) && a.sentAtNanos === 99n)).toBe(true);
    expect(sink.datapoints()).toHaveLength(500);
    expect(sink.stats()).toMatchObject({ messages: 500, acked: 500, duplicates: 0, decodeErrors: 0 });
    p.socket.destroy();
  });

  test("a retried message is acked again but kept once; a different value for the same window is a conflict", async () => {
    const p = await producer(sink);
    const meta = { shard: 1n, id: 5n, sentAtNanos: 1n };
    p.socket.write(encodeMessage(meta, point("c", 1, 10)));
    p.socket.write(encodeMessage({ ...meta, sentAtNanos: 2n }, point("c", 1, 10))); // m3 re-sends with a new sentAt
    p.socket.write(encodeMessage({ ...meta, id: 6n }, point("c", 2, 5)));
    p.socket.write(encodeMessage({ ...meta, id: 7n }, point("c", 2, 6)));
    await until(() => p.acks.length === 4, "4 acks");
    expect(sink.find("c").map((x) => x.value)).toEqual([10, 5]);
    expect(sink.sum("c")).toBe(15);
    expect(sink.stats()).toMatchObject({ messages: 4, duplicates: 1, conflicts: 1 });
    expect(sink.conflicts()[0]).toMatchObject({ kept: { value: 5 }, received: { value: 6 } });
    p.socket.destroy();
  });

  test("waitFor resolves with the predicate's value, and its timeout says what arrived", async () => {
    const p = await producer(sink);
    const waiting = sink.waitFor((points) => points.find((x) => x.id === "late")?.value, { timeoutMs: 5_000, intervalMs: 10 });
    p.socket.write(encodeMessage({ shard: 0n, id: 1n, sentAtNanos: 0n }, point("late", 3, 7)));
    await expect(waiting).resolves.toBe(7);
    await expect(sink.waitFor(() => false, { timeoutMs: 50, what: "nothing" }))
      .rejects.toThrow(/sink: nothing not met within 50 ms; 1 datapoints received \(last: late@30000000000=7\)/);
    p.socket.destroy();
  });

  test("garbage closes only that connection; another keeps working", async () => {
    const bad = await producer(sink);
    const good = await producer(sink);
    bad.socket.write(Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff]));
    await bad.closed;
    good.socket.write(encodeMessage({ shard: 0n, id: 1n, sentAtNanos: 0n }, point("ok", 1, 1)));
    await until(() => good.acks.length === 1, "ack on the good connection");
    expect(sink.stats()).toMatchObject({ decodeErrors: 1, messages: 1 });
    good.socket.destroy();
  });

  test("stop() closes connections and is idempotent", async () => {
    const p = await producer(sink);
    await sink.stop();
    await p.closed;
    await expect(sink.stop()).resolves.toBeUndefined();
    await expect(new Promise((resolve, reject) => net.connect({ host: sink.host, port: sink.port }).once("connect", reject).once("error", resolve)))
      .resolves.toBeDefined();
  });
});
