/** The ingest client against local TCP servers on 127.0.0.1 that decode the frames. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { encodeFrame } from "../../../src/ingest/encoder";
import type { Placement } from "../../../src/m3/types";
import { M3IngestClient } from "../../../src/ingest/client";
import { ShardRouter } from "../../../src/ingest/router";

/** Reads zigzag-varint framed payloads; counts frames per server. */
function frameServer(tlsOptions?: tls.TlsOptions): Promise<{ server: net.Server; port: number; frames: Buffer[]; connections: net.Socket[]; firstBytes: number[] }> {
  const frames: Buffer[] = [];
  const connections: net.Socket[] = [];
  const firstBytes: number[] = [];
  const onSocket = (socket: net.Socket) => {
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
  };
  // A plain server records each connection's first byte on the wire (0x16 = a TLS handshake).
  const server = tlsOptions === undefined
    ? net.createServer((socket) => {
      socket.once("data", (chunk) => firstBytes.push(chunk[0] as number));
      onSocket(socket);
    })
    : tls.createServer(tlsOptions, onSocket);
  return new Promise((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, () =>
    resolve({ server, port: (server.address() as net.AddressInfo).port, frames, connections, firstBytes })));
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

  test("send is synchronous: undefined while the client can take more, a promise only under backpressure", async () => {
    const a = await frameServer();
    const client = await M3IngestClient.connect(placementOf([a.port]));
    expect(client.counter("x", 1)).toBeUndefined();
    expect(client.send({ type: "gauge", id: "g", value: 1 })).toBeUndefined();
    expect(() => client.counter("", 1)).toThrow("invalid metric id=\"\": must not be empty");
    await client.flush();
    await until(() => a.frames.length === 2);
    await client.close();
    a.server.close();
  });

  test("wire version: options.m3Version, else the source's getM3Version(), else v1.6.0", async () => {
    const a = await frameServer();
    const placement = placementOf([a.port]);
    const v15 = { placement: async () => placement, getM3Version: () => "v1.5.0" as const };
    const clients = [
      await M3IngestClient.connect(placement),
      await M3IngestClient.connect(v15),
      await M3IngestClient.connect(v15, { m3Version: "v1.6.0" }),
    ];
    expect(clients.map((c) => c.m3Version)).toEqual(["v1.6.0", "v1.5.0", "v1.6.0"]);
    for (const c of clients) {
      c.counter("x", 1);
      await c.close();
    }
    await until(() => a.frames.length === 3);
    const payload = (version: "v1.5.0" | "v1.6.0") => encodeFrame({ type: "counter", id: "x", value: 1 }, { m3Version: version }).subarray(1);
    expect(new Set(a.frames.map((f) => f.toString("hex")))).toEqual(new Set([payload("v1.6.0"), payload("v1.5.0")].map((b) => b.toString("hex"))));
    a.server.close();
  });

  describe("TLS", () => {
    let dir: string;
    let key: Buffer;
    let cert: Buffer;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-tls-"));
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore" });
      key = fs.readFileSync(path.join(dir, "key.pem"));
      cert = fs.readFileSync(path.join(dir, "cert.pem"));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("a source with tls.clientOptions() makes the client dial TLS; frames arrive decrypted", async () => {
      const a = await frameServer({ key, cert });
      const placement = placementOf([a.port]);
      const client = await M3IngestClient.connect({ placement: async () => placement, tls: { clientOptions: () => ({ ca: cert }) } });
      expect(client.tls).toBe(true);
      for (let i = 0; i < 100; i++) client.counter(`t${i}`, 1);
      await client.close();
      await until(() => a.frames.length === 100);
      expect(a.frames[0]).toEqual(encodeFrame({ type: "counter", id: "t0", value: 1 }).subarray(1));
      a.server.close();
    });

    test("tls: false forces plaintext even when the source has TLS; the first byte is a frame size, not 0x16", async () => {
      const a = await frameServer();
      const placement = placementOf([a.port]);
      const client = await M3IngestClient.connect({ placement: async () => placement, tls: { clientOptions: () => ({ ca: cert }) } }, { tls: false });
      expect(client.tls).toBe(false);
      client.counter("p", 1);
      await client.close();
      await until(() => a.frames.length === 1);
      expect(a.firstBytes).toHaveLength(1);
      expect(a.firstBytes[0]).not.toBe(0x16);
      a.server.close();
    });

    test("a TLS client that does not trust the server's certificate fails, naming the endpoint", async () => {
      const a = await frameServer({ key, cert });
      const client = await M3IngestClient.connect(placementOf([a.port]), { tls: {}, reconnectDelayMs: 1, maxReconnectDelayMs: 1 });
      client.counter("x", 1);
      await expect(client.flush()).rejects.toThrow(`cannot connect to 127.0.0.1:${a.port}`);
      expect(() => client.counter("x", 1)).toThrow(`cannot connect to 127.0.0.1:${a.port}`);
      await client.close();
      a.server.close();
    });
  });
});
