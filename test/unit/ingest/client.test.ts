/** The ingest client against local TCP servers on 127.0.0.1 that decode the frames. */
import { execFileSync } from "node:child_process";
import { onFrames } from "./frames";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { encodeFrame } from "../../../src/ingest/encoder";
import type { Placement } from "../../../src/m3/types";
import { M3IngestClient } from "../../../src/ingest/client";
import { ShardRouter } from "../../../src/ingest/router";
import { DeliveryError } from "../../../src/ingest/client";
import { InvalidClientOptionError } from "../../../src/ingest/options";
import { TlsCertificateError } from "../../../src/ingest/connection";
import { InvalidMetricError } from "../../../src/ingest/policy";
import { poll } from "../../../src/util/poll";

/** Reads zigzag-varint framed payloads; counts frames per server. */
function frameServer(tlsOptions?: tls.TlsOptions): Promise<{ server: net.Server; port: number; frames: Buffer[]; connections: net.Socket[]; firstBytes: number[] }> {
  const frames: Buffer[] = [];
  const connections: net.Socket[] = [];
  const firstBytes: number[] = [];
  const onSocket = (socket: net.Socket) => {
    connections.push(socket);
    onFrames(socket, (payload) => frames.push(payload));
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

/** Polls `check` (10 ms) until true; fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  await poll(() => (check() ? true : undefined), { timeoutMs, intervalMs: 10, what: "condition" });
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
    expect(stats.n0).toMatchObject({ queued: 10_000, written: 10_000, lost: 0, pending: 0, state: "connected" });
    expect(stats.n0!.writes).toBeLessThan(1_000); // batched
    const report = await client.close();
    expect(report).toMatchObject({ ok: true, queued: 20_000, written: 20_000, lost: 0, pending: 0, dropped: 0 });
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
    await until(() => a.connections.length === 2); // the client redials at once, data or not
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
    const client = await M3IngestClient.connect(placementOf([a.port]), { batchBytes: 16 * 1024, writeTimeoutMs: 60_000 });
    const big = "x".repeat(200);
    let sent = 0;
    const sending = (async () => {
      for (let i = 0; i < 50_000; i++) {
        await client.counter(`${big}${i % 10}`, 1);
        sent++;
      }
    })();
    await until(() => (client.stats().n0?.drainWaits ?? 0) > 0, 10_000);
    const blockedAt = sent;
    await until(() => a.connections.length === 1);
    expect(blockedAt).toBeLessThan(50_000); // blocked on drain
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
      expect(client.usesTls()).toBe(true);
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
      expect(client.usesTls()).toBe(false);
      client.counter("p", 1);
      await client.close();
      await until(() => a.frames.length === 1);
      expect(a.firstBytes).toHaveLength(1);
      expect(a.firstBytes[0]).not.toBe(0x16);
      a.server.close();
    });

    test("a certificate the client does not trust: not retried, flush rejects and later sends throw, naming the endpoint and the problem", async () => {
      const a = await frameServer({ key, cert });
      let tlsConnections = 0;
      a.server.on("connection", () => tlsConnections++);
      const client = await M3IngestClient.connect(placementOf([a.port]), { tls: {}, reconnectDelayMs: 1, maxReconnectDelayMs: 1 });
      client.counter("x", 1);
      const error = await client.flush().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TlsCertificateError);
      expect((error as Error).message).toContain(`127.0.0.1:${a.port}`);
      expect((error as Error).message).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
      expect(() => client.counter("x", 1)).toThrow(TlsCertificateError);
      expect(client.report()).toMatchObject({ lost: 1, endpoints: { n0: { state: "failed", lostBy: { "TLS certificate error": 1 } } } });
      await expect(client.close()).rejects.toThrow(TlsCertificateError);
      expect(tlsConnections).toBe(1); // one attempt: a certificate does not get better by redialing
      a.server.close();
    });
  });
});

/** A port nobody listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A frame server on a given port (to bring a "dead" replica back). */
async function frameServerOn(port: number): Promise<Awaited<ReturnType<typeof frameServer>>> {
  const s = await frameServer();
  s.server.close();
  const frames: Buffer[] = [];
  const connections: net.Socket[] = [];
  const server = net.createServer((socket) => {
    connections.push(socket);
    onFrames(socket, (payload) => frames.push(payload));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port }, resolve));
  return { server, port, frames, connections, firstBytes: [] };
}

describe("delivery semantics (issue 16)", () => {
  test("a dead replica: no send throws or waits, the live replica gets every frame, the dead one's frames are pending, then lost at close, by reason", async () => {
    const live = await frameServer();
    const dead = await deadPort();
    const client = await M3IngestClient.connect(placementOf([live.port, dead]), { reconnectDelayMs: 5, maxReconnectDelayMs: 20 });
    for (let i = 0; i < 2_000; i++) expect(client.counter(`d${i % 10}`, 1)).toBeUndefined(); // never blocked by the dead endpoint
    const flushed = await client.flush(); // resolves: does not wait for the dead endpoint
    expect(flushed.endpoints.n0).toMatchObject({ queued: 2_000, written: 2_000, lost: 0 });
    expect(flushed.endpoints.n1).toMatchObject({ queued: 2_000, written: 0, lost: 0, pending: 2_000, state: "down" });
    expect(flushed.endpoints.n1!.lastError).toContain(`cannot connect to 127.0.0.1:${dead}`);
    expect(flushed.ok).toBe(false);
    await until(() => live.frames.length === 2_000);
    const t0 = Date.now();
    const report = await client.close();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(report.endpoints.n1).toMatchObject({ lost: 2_000, pending: 0, lostBy: { "unreachable at close": 2_000 } });
    expect(report.endpoints.n0).toMatchObject({ written: 2_000, lost: 0 });
    expect(live.frames).toHaveLength(2_000);
    live.server.close();
  });

  test("a replica that comes back is redialed (capped backoff) and gets what waited for it", async () => {
    const live = await frameServer();
    const port = await deadPort();
    const client = await M3IngestClient.connect(placementOf([live.port, port]), { reconnectDelayMs: 5, maxReconnectDelayMs: 50 });
    for (let i = 0; i < 100; i++) client.counter(`r${i}`, 1);
    await client.flush();
    await until(() => client.stats().n1?.state === "down");
    const back = await frameServerOn(port);
    await until(() => back.frames.length === 100);
    for (let i = 0; i < 100; i++) client.counter(`r${i}`, 1);
    const report = await client.close();
    expect(report).toMatchObject({ ok: true, lost: 0, written: 400 });
    expect(back.frames).toHaveLength(200);
    expect(live.frames).toHaveLength(200);
    live.server.close();
    back.server.close();
  });

  test("the peer closes the connection while frames are queued: a redial delivers them (no frame silently vanishes from the counts)", async () => {
    const a = await frameServer();
    const client = await M3IngestClient.connect(placementOf([a.port]));
    await client.counter("x", 1);
    await client.flush();
    for (const socket of a.connections) socket.destroy();
    for (let i = 0; i < 1_000; i++) client.counter(`y${i}`, 1);
    const report = await client.close();
    expect(report.queued).toBe(1_001);
    expect(report.written + report.lost).toBe(1_001); // every frame accounted for
    expect(report.pending).toBe(0);
    a.server.close();
  });

  test("a paused peer (stops reading): close({ timeoutMs }) returns within it and reports loss for that endpoint only", async () => {
    const live = await frameServer();
    const paused = await frameServer();
    paused.server.on("connection", (socket) => socket.pause());
    const client = await M3IngestClient.connect(placementOf([live.port, paused.port]), { writeTimeoutMs: 60_000 });
    const sending = (async () => {
      const big = "p".repeat(300);
      for (let i = 0; i < 200_000; i++) {
        const wait = client.counter(`${big}${i % 100}`, 1);
        if (wait) await wait;
        if (i % 500 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    await until(() => (client.stats().n1?.drainWaits ?? 0) > 0, 20_000);
    const t0 = Date.now();
    const report = await client.close({ timeoutMs: 500 });
    const closeMs = Date.now() - t0;
    await sending.catch(() => undefined); // sends after close throw: that ends the loop
    expect(closeMs).toBeLessThan(1_500);
    expect(report.endpoints.n1!.lost).toBeGreaterThan(0);
    expect(Object.keys(report.endpoints.n1!.lostBy).join()).toMatch(/close timeout/);
    expect(report.endpoints.n0).toMatchObject({ lost: 0, pending: 0 });
    expect(report.endpoints.n0!.written).toBe(report.endpoints.n0!.queued);
    live.server.close();
    for (const s of paused.connections) s.destroy();
    paused.server.close();
  }, 30_000);

  test("a stalled socket (peer not reading for writeTimeoutMs) is dropped: senders go on, the loss is named", async () => {
    const live = await frameServer();
    const paused = await frameServer();
    paused.server.on("connection", (socket) => socket.pause());
    const client = await M3IngestClient.connect(placementOf([live.port, paused.port]), { writeTimeoutMs: 200, maxQueueBytes: 256 * 1024 });
    const big = "s".repeat(300);
    const t0 = Date.now();
    let sent = 0;
    // Send until the paused endpoint has lost something (its kernel buffers fill first), bounded by 20 s.
    while ((client.stats().n1?.lost ?? 0) === 0 && Date.now() - t0 < 20_000) {
      const wait = client.counter(`${big}${sent % 100}`, 1);
      sent++;
      if (wait) await wait; // resolves at the latest when the stall timeout drops the socket
      if (sent % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(Object.keys(client.stats().n1!.lostBy).join()).toMatch(/write stalled|queue full/);
    const report = await client.close({ timeoutMs: 300 });
    expect(report.endpoints.n0).toMatchObject({ queued: sent, written: sent, lost: 0 });
    expect(report.endpoints.n1!.lost).toBeGreaterThan(0);
    expect(report.endpoints.n1!.lastError).toMatch(/stalled|close timeout/);
    live.server.close();
    for (const s of paused.connections) s.destroy();
    paused.server.close();
  }, 30_000);

  test("strict mode: close() rejects with a DeliveryError naming each endpoint and its lost count", async () => {
    const live = await frameServer();
    const dead = await deadPort();
    const client = await M3IngestClient.connect(placementOf([live.port, dead]), { strict: true, reconnectDelayMs: 5 });
    for (let i = 0; i < 10; i++) client.counter(`s${i}`, 1);
    const error = await client.close().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toContain(`n1 (127.0.0.1:${dead}) lost 10 of 10: 10 unreachable at close; last error: cannot connect to 127.0.0.1:${dead}`);
    expect((error as Error).message).not.toContain("n0");
    expect((error as DeliveryError).report.endpoints.n0).toMatchObject({ written: 10, lost: 0 });
    live.server.close();
  });

  test("a frame over m3's message size limit is an InvalidMetricError before anything is sent", async () => {
    const a = await frameServer();
    const client = await M3IngestClient.connect(placementOf([a.port]), { maxMessageBytes: 100 });
    expect(() => client.counter("x".repeat(200), 1)).toThrow(InvalidMetricError);
    expect(() => client.counter("x".repeat(200), 1)).toThrow(/invalid metric size=\d+: the frame's payload is larger than m3's raw TCP limit of 100 bytes/);
    client.counter("small", 1);
    const report = await client.close();
    expect(report).toMatchObject({ queued: 1, written: 1 });
    await until(() => a.frames.length === 1);
    // The default limit: 50,000,000 bytes (a 6.25 M-value batch timer is 50,000,000 bytes of values alone).
    const big = await M3IngestClient.connect(placementOf([a.port]));
    expect(() => big.timer("t", new Array(6_250_001).fill(1))).toThrow(/larger than m3's raw TCP limit of 50000000 bytes/);
    expect((await big.close()).queued).toBe(0);
    a.server.close();
  });

  test("client options are validated like cluster options: option, value, rule, before any connection", async () => {
    const placement = placementOf([1]);
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ connectionsPerEndpoint: 0 }, "invalid client option connectionsPerEndpoint=0: must be a whole number in 1..64"],
      [{ batchBytes: 10 }, "invalid client option batchBytes=10: must be a whole number in 1024..8388608"],
      [{ writeTimeoutMs: Number.NaN }, "invalid client option writeTimeoutMs=null: must be a whole number in 10..600000"],
      [{ maxReconnectDelayMs: 10, reconnectDelayMs: 50 }, "invalid client option maxReconnectDelayMs=10: must be a whole number in 50..600000"],
      [{ strict: "yes" }, "invalid client option strict=\"yes\": must be true or false"],
      [{ m3Version: "v9" }, "invalid client option m3Version=\"v9\": must be one of"],
      [{ followPlacement: true }, "invalid client option followPlacement=true: needs a source with placement()"],
      [{ batchSize: 1 }, "invalid client option batchSize=1: is not a client option"],
    ];
    for (const [options, message] of bad) {
      const error = await M3IngestClient.connect(placement, options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidClientOptionError);
      expect((error as Error).message).toContain(message);
    }
    const client = await M3IngestClient.connect(placement);
    await expect(client.close({ timeoutMs: Number.NaN })).rejects.toThrow("invalid client option timeoutMs=null");
    await client.close();
  });
});

describe("placement following (issue 17)", () => {
  const shardsWith = (n: number, cutoverMs: number, cutoffMs: number) => Array.from({ length: n }, (_, s) => ({
    id: s, state: "INITIALIZING" as const, sourceId: "",
    cutoverNanos: cutoverMs === 0 ? "0" : String(BigInt(cutoverMs) * 1_000_000n), cutoffNanos: cutoffMs === 0 ? "0" : String(BigInt(cutoffMs) * 1_000_000n),
  }));
  const instance = (id: string, port: number, shards: ReturnType<typeof shardsWith>) => ({
    id, isolationGroup: id, zone: "embedded", weight: 1, endpoint: `127.0.0.1:${port}`, shardSetId: 1, hostname: id, port: 1, shards,
  });
  const placementWith = (instances: Array<ReturnType<typeof instance>>): Placement => ({
    instances: Object.fromEntries(instances.map((i) => [i.id, i])), replicaFactor: 1, numShards: 4, isSharded: true, cutoverTime: "0", isMirrored: true, maxShardSetId: 1,
  });

  test("router: an owner takes writes in [cutover − warmup, cutoff + linger] (m3's tcp_client.go), 0 meaning open", () => {
    const now = 1_800_000_000_000;
    const p = placementWith([
      instance("old", 1, shardsWith(4, 0, now + 1_000)),            // cut off in 1 s
      instance("new", 2, shardsWith(4, now + 700_000, 0)),          // cuts over in 700 s (> 10 min warmup)
      instance("soon", 3, shardsWith(4, now + 500_000, 0)),         // cuts over in 500 s (< 10 min)
      instance("gone", 4, shardsWith(4, 0, now - 3_600_001)),       // cut off more than the 1 h linger ago
    ]);
    const router = new ShardRouter(p);
    expect(router.writersOfShard(0, now)).toEqual(["old", "soon"]);
    expect(router.writersOfShard(0, now + 100_001)).toEqual(["new", "old", "soon"]); // 700 s − 600 s warmup
    expect(router.writersOfShard(0, now + 1_000 + 3_600_001)).toEqual(["new", "soon"]); // old's linger over
    expect(router.nextChangeMs(now)).toBe(now + 100_000);
    const noWindows = new ShardRouter(p, { shardCutoverWarmupMs: 0, shardCutoffLingerMs: 0 });
    expect(noWindows.writersOfShard(0, now)).toEqual(["old"]);
    expect(noWindows.replicasOfShard(0)).toEqual(["gone", "new", "old", "soon"]);
  });

  test("a client from a cluster-like source follows its placement: new owner written, waitForPlacementVersion, left instance closed and reported", async () => {
    const a = await frameServer();
    const b = await frameServer();
    let current = { placement: placementWith([instance("a", a.port, shardsWith(4, 0, 0))]), version: 3 };
    const source = { placement: async () => current.placement, admin: { getPlacement: async () => current } };
    const client = await M3IngestClient.connect(source, { followPlacement: { intervalMs: 20 } });
    expect(client.placementVersion()).toBe(3);
    for (let i = 0; i < 10; i++) client.counter(`f${i}`, 1);
    await client.flush();
    // A move: a's shards cut off now (it lingers 1 h, so keeps receiving), b cuts over now: both receive.
    const now = Date.now();
    current = { placement: placementWith([instance("a", a.port, shardsWith(4, 0, now)), instance("b", b.port, shardsWith(4, now, 0))]), version: 4 };
    expect(await client.waitForPlacementVersion(4, { timeoutMs: 5_000 })).toBe(4);
    for (let i = 0; i < 10; i++) client.counter(`f${i}`, 1);
    await client.flush();
    await until(() => a.frames.length === 20 && b.frames.length === 10);
    // a leaves the placement: its connection is flushed and closed, its counts stay in the report.
    current = { placement: placementWith([instance("b", b.port, shardsWith(4, now, 0))]), version: 5 };
    await client.waitForPlacementVersion(5);
    for (let i = 0; i < 10; i++) client.counter(`f${i}`, 1);
    const report = await client.close();
    expect(report).toMatchObject({ ok: true, placementVersion: 5, queued: 40, written: 40 });
    expect(report.endpoints.a).toMatchObject({ queued: 20, written: 20, inPlacement: false, state: "closed" });
    expect(report.endpoints.b).toMatchObject({ queued: 20, written: 20, inPlacement: true });
    await until(() => b.frames.length === 20);
    expect(a.frames).toHaveLength(20);
    a.server.close();
    b.server.close();
  });

  test("no owner accepting a shard: the metric is validated, counted as dropped, sent nowhere (m3's `dropped`)", async () => {
    const a = await frameServer();
    const far = Date.now() + 3_600_000;
    const client = await M3IngestClient.connect(placementWith([instance("a", a.port, shardsWith(4, far, 0))]));
    expect(client.counter("x", 1)).toBeUndefined();
    expect(() => client.counter("", 1)).toThrow(InvalidMetricError);
    const report = await client.close();
    expect(report).toMatchObject({ ok: false, dropped: 1, queued: 0 });
    a.server.close();
  });
});
