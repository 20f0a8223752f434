/** runLoad's sending side against local TCP servers that count frames (no Docker): count, rate, mix, send-only mode. */
import * as net from "node:net";
import { onFrames } from "../ingest/frames";
import type { Placement } from "../../../src/m3/types";
import { type LoadTarget, runLoad } from "../../../src/load/run";

/** Counts zigzag-varint framed frames per server and the MetricWithMetadatas type of each. */
async function frameCounter(): Promise<{ server: net.Server; port: number; frames: number; types: Map<number, number> }> {
  const state = { frames: 0, types: new Map<number, number>() };
  const server = net.createServer((socket) => {
    onFrames(socket, (payload) => {
      state.frames++;
      const type = payload[1] as number; // payload starts 08 <type>
      state.types.set(type, (state.types.get(type) ?? 0) + 1);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return Object.assign(state, { server, port: (server.address() as net.AddressInfo).port }) as never;
}

function target(ports: number[]): LoadTarget {
  const placement: Placement = {
    instances: Object.fromEntries(ports.map((port, i) => [`n${i}`, {
      id: `n${i}`, isolationGroup: `g${i}`, zone: "embedded", weight: 1, endpoint: `127.0.0.1:${port}`, shardSetId: 1, hostname: `n${i}`, port: 1,
      shards: Array.from({ length: 16 }, (_, s) => ({ id: s, state: "INITIALIZING" as const, sourceId: "", cutoverNanos: "0", cutoffNanos: "0" })),
    }])),
    replicaFactor: ports.length, numShards: 16, isSharded: true, cutoverTime: "0", isMirrored: true, maxShardSetId: 1,
  };
  return {
    getId: () => "fake", placement: async () => placement, nodes: [],
    getSink(): never {
      throw new Error("no sink");
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("runLoad (send side, no sink)", () => {
  test("count: exactly that many metrics, each to both replicas, types by the mix", async () => {
    const a = await frameCounter();
    const b = await frameCounter();
    const report = await runLoad(target([a.port, b.port]), { count: 10_000, ids: 100, mix: { counter: 2, gauge: 1, timer: 1 } });
    expect(report.verified).toBe(false);
    expect(report.ok).toBe(false);
    expect(report.lost).toBeNull();
    expect(report.sent).toBe(10_000);
    expect(report.sentByType).toEqual({ counter: 5_000, gauge: 2_500, timer: 2_500, timed: 0 });
    expect(report.expectedCounterTotal).toBe(5_000);
    await until(() => a.frames === 10_000 && b.frames === 10_000);
    // MetricWithMetadatas.type: 1 counter, 2 batch timer, 3 gauge
    expect(Object.fromEntries(a.types)).toEqual({ 1: 5_000, 2: 2_500, 3: 2_500 });
    a.server.close();
    b.server.close();
  });

  test("rate: 4,000/s for 1.5 s sends about 6,000", async () => {
    const a = await frameCounter();
    const report = await runLoad(target([a.port]), { rate: 4_000, durationSeconds: 1.5, mix: { counter: 1, timed: 1 } });
    expect(report.sent).toBeGreaterThan(5_000);
    expect(report.sent).toBeLessThanOrEqual(6_100);
    expect(report.sendMs).toBeGreaterThanOrEqual(1_400);
    expect(report.sentByType.timed).toBeGreaterThan(0);
    await until(() => a.frames === report.sent);
    expect(a.types.get(5)).toBe(report.sentByType.timed); // TIMED_METRIC_WITH_METADATA
    a.server.close();
  });

  test("verify without a sink is refused before anything is sent", async () => {
    await expect(runLoad(target([1]), { verify: true, count: 1 })).rejects.toThrow('invalid load option verify=true: cluster fake has no sink in this process');
  });
});
