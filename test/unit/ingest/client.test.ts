/** The ingest client against local TCP servers on 127.0.0.1 that decode the frames. */
import * as net from "node:net";
import type { Placement } from "../../../src/admin/types";
import { M3IngestClient } from "../../../src/ingest/client";
import { ShardRouter } from "../../../src/ingest/router";

/** Reads zigzag-varint framed payloads; counts frames per server. */
function frameServer(): Promise<{ server: net.Server; port: number; frames: Buffer[]; connections: net.Socket[] }> {
  const frames: Buffer[] = [];
  const connections: net.Socket[] = [];
  const server = net.createServer((socket) => {
    connections.push(socket);
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        let size = 0n;
        let shift = 0n;
        let i = 0;
        for (; i < buffer.length; i++) {
          const b = buffer[i] as number;
          size |= BigInt(b & 0x7f) << shift;
          shift += 7n;
          if ((b & 0x80) === 0) break;
        }
        if (i >= buffer.length) return;
        const n = Number(size >> 1n);
        if (buffer.length < i + 1 + n) return;
        frames.push(buffer.subarray(i + 1, i + 1 + n));
        buffer = buffer.subarray(i + 1 + n);
      }
    });
    socket.on("error", () => undefined);
  });
  return new Promise((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, () =>
    resolve({ server, port: (server.address() as net.AddressInfo).port, frames, connections })));
}

function placementOf(ports: number[], numShards = 8): Placement {
  const instances = Object.fromEntries(ports.map((port, i) => [`n${i}`, {
    id: `n${i}`, isolationGroup: `g${i}`, zone: "embedded", weight: 1, endpoint: `127.0.0.1:${port}`, shardSetId: 1, hostname: `n${i}`, port: 1,
    shards: Array.from({ length: numShards }, (_, s) => ({ id: s, state: "INITIALIZING" as const, sourceId: "", cutoverNanos: "0", cutoffNanos: "0" })),
  }]));
  return { instances, replicaFactor: ports.length, numShards, isSharded: true, cutoverTime: "0", isMirrored: true, maxShardSetId: 1 };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("M3IngestClient", () => {
  test("every metric goes to every replica of its shard, batched into few writes", async () => {
    const a = await frameServer();
    const b = await frameServer();
    const client = await M3IngestClient.connect(placementOf([a.port, b.port]));
    for (let i = 0; i < 10_000; i++) await client.counter(`c${i % 50}`, 1);
    await client.flush();
    await until(() => a.frames.length === 10_000 && b.frames.length === 10_000);
    const stats = client.stats();
    expect(stats.n0?.frames).toBe(10_000);
    expect(stats.n0!.writes).toBeLessThan(1_000); // batched
    await client.close();
    a.server.close();
    b.server.close();
  });

  test("router: murmur3 % numShards, replicas from the placement, unknown nodes named", () => {
    const router = new ShardRouter(placementOf([1, 2], 64));
    expect(router.shardOf("foo")).toBe(32);
    expect(router.replicasOf("foo")).toEqual(["n0", "n1"]);
    expect(() => router.endpointOf("n9")).toThrow('invalid metric node="n9": is not in the placement (instances: n0, n1)');
  });

  test("reconnects after the server drops the connection, and later metrics arrive", async () => {
    const a = await frameServer();
    const client = await M3IngestClient.connect(placementOf([a.port]));
    await client.counter("x", 1);
    await client.flush();
    await until(() => a.frames.length === 1);
    a.connections[0]!.destroy(); // like the aggregator on a bad frame
    await new Promise((r) => setTimeout(r, 50));
    await client.counter("x", 1);
    await client.flush();
    await until(() => a.frames.length === 2);
    expect(a.connections).toHaveLength(2);
    expect(client.stats().n0?.reconnects).toBe(1);
    await client.close();
    a.server.close();
  });

  test("backpressure: with a server that stops reading, sends wait for drain instead of buffering without bound", async () => {
    const a = await frameServer();
    a.server.on("connection", (socket) => socket.pause());
    const client = await M3IngestClient.connect(placementOf([a.port]), { batchBytes: 16 * 1024 });
    const big = "x".repeat(200);
    let sent = 0;
    const sending = (async () => {
      for (let i = 0; i < 50_000; i++) {
        await client.counter(`${big}${i % 10}`, 1);
        sent++;
      }
    })();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sent).toBeLessThan(50_000); // blocked on drain
    expect(client.stats().n0?.drainWaits).toBeGreaterThan(0);
    a.connections.forEach((s) => s.resume());
    await sending;
    await client.close();
    await until(() => a.frames.length === 50_000);
    a.server.close();
  }, 30_000);
});
