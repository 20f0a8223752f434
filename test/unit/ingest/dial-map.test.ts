/**
 * The dial map: a placement whose endpoints are DNS names this process cannot resolve (the named
 * network model of swarm and kubernetes), and local TCP servers standing in for the nodes. The
 * client follows the placement and dials, for each endpoint, where the map says.
 */
import * as net from "node:net";
import { M3IngestClient } from "../../../src/ingest/client";
import { InvalidClientOptionError } from "../../../src/ingest/options";
import type { Placement } from "../../../src/m3/types";
import { poll } from "../../../src/util/poll";
import { onFrames } from "./frames";

/** A server that counts the frames it receives (zigzag-varint length prefix). */
function frameServer(): Promise<{ server: net.Server; address: string; frames: () => number; close(): void }> {
  let frames = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    onFrames(socket, () => frames++);
    socket.on("error", () => undefined);
  });
  return new Promise((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, () => resolve({
    server, address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, frames: () => frames,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  })));
}

/** rf = number of instances, every instance owns every shard; endpoints as given (DNS names). */
function namedPlacement(endpoints: string[], numShards = 8): Placement {
  const instances = Object.fromEntries(endpoints.map((endpoint, i) => [`m3aggregator-${i}`, {
    id: `m3aggregator-${i}`, isolationGroup: `group-${i + 1}`, zone: "embedded", weight: 1, endpoint, shardSetId: 1, hostname: `m3aggregator-${i}`, port: 6003,
    shards: Array.from({ length: numShards }, (_, s) => ({ id: s, state: "INITIALIZING" as const, sourceId: "", cutoverNanos: "0", cutoffNanos: "0" })),
  }]));
  return { instances, replicaFactor: endpoints.length, numShards, isSharded: true, cutoverTime: "0", isMirrored: true, maxShardSetId: 1 };
}

const until = (check: () => boolean, what: string) => poll(() => (check() ? true : undefined), { timeoutMs: 5_000, intervalMs: 10, what });

describe("the dial map", () => {
  test("a source's dialAddress is used for each placement endpoint: every replica gets every frame at its mapped address", async () => {
    const [a, b] = [await frameServer(), await frameServer()];
    const map = new Map([["m3aggregator-0:6003", a.address], ["m3aggregator-1:6003", b.address]]);
    const placement = namedPlacement(["m3aggregator-0:6003", "m3aggregator-1:6003"]);
    const client = await M3IngestClient.connect({ placement: async () => placement, dialAddress: (e) => map.get(e) ?? e }, { followPlacement: false });
    for (let i = 0; i < 300; i++) await client.counter(`dial.${i % 30}`, 1);
    const report = await client.close();
    await until(() => a.frames() === 300 && b.frames() === 300, "300 frames at each mapped server");
    expect(report).toMatchObject({ ok: true, written: 600, lost: 0 });
    a.close();
    b.close();
  });

  test("the dial option wins over the source's dialAddress", async () => {
    const a = await frameServer();
    const placement = namedPlacement(["m3aggregator-0:6003"]);
    const client = await M3IngestClient.connect(
      { placement: async () => placement, dialAddress: () => "127.0.0.1:1" }, // nothing listens there
      { followPlacement: false, dial: (e) => (e === "m3aggregator-0:6003" ? a.address : e) },
    );
    for (let i = 0; i < 50; i++) await client.counter("opt", 1);
    expect(await client.close()).toMatchObject({ ok: true, written: 50 });
    await until(() => a.frames() === 50, "50 frames at the option's address");
    a.close();
  });

  test("following the placement: an instance whose endpoint moves is dialled at the new endpoint's mapped address", async () => {
    const [a, b, c] = [await frameServer(), await frameServer(), await frameServer()];
    const map = new Map([["m3aggregator-0:6003", a.address], ["m3aggregator-1:6003", b.address], ["m3aggregator-1b:6003", c.address]]);
    let placement = namedPlacement(["m3aggregator-0:6003", "m3aggregator-1:6003"]);
    const client = await M3IngestClient.connect({ placement: async () => placement, dialAddress: (e) => map.get(e) ?? e }, { followPlacement: false });
    for (let i = 0; i < 100; i++) await client.counter("move", 1);
    await client.flush();
    placement = namedPlacement(["m3aggregator-0:6003", "m3aggregator-1b:6003"]);
    await client.refreshPlacement();
    for (let i = 0; i < 70; i++) await client.counter("move", 1);
    const report = await client.close();
    await until(() => a.frames() === 170 && b.frames() === 100 && c.frames() === 70, "a 170, b 100, c 70");
    expect(report).toMatchObject({ lost: 0, dropped: 0 });
    for (const s of [a, b, c]) s.close();
  });

  test("a dial option that is not a function is refused, named", async () => {
    await expect(M3IngestClient.connect({ placement: async () => namedPlacement(["m3aggregator-0:6003"]) }, { dial: "127.0.0.1:1" as never }))
      .rejects.toThrow(InvalidClientOptionError);
    await expect(M3IngestClient.connect({ placement: async () => namedPlacement(["m3aggregator-0:6003"]) }, { dial: "127.0.0.1:1" as never }))
      .rejects.toThrow(/dial.*must be a function \(endpoint\) => host:port/);
  });
});
