/**
 * A steady, bounded counter load for topology tests, and its check against the sink, both
 * independent of the code under test: what was sent is counted here, per id; what arrived is read
 * from the sink's raw datapoints and grouped here, per (id, window).
 */
import { M3IngestClient } from "../../src/ingest/client";
import type { StartedM3AggregatorCluster } from "../../src/cluster/started";

export interface SteadyLoad {
  /** Stops sending, flushes and closes the client; resolves with what was sent. */
  stop(): Promise<SentCounters>;
  /** Sends so far. */
  sent(): number;
  client: M3IngestClient;
}

export interface SentCounters {
  prefix: string;
  perId: Map<string, number>;
  firstSendMs: number;
  lastSendMs: number;
  total: number;
  /** Achieved send rate (metrics/s) per second of the run: [second offset, count]. */
  perSecond: number[];
}

/** `rate` counter increments (+1) per second over `ids` ids, spread evenly, until stop() or `maxSeconds`. */
export async function startSteadyLoad(cluster: StartedM3AggregatorCluster, options: { rate?: number; ids?: number; maxSeconds?: number; prefix?: string } = {}): Promise<SteadyLoad> {
  const rate = options.rate ?? 5_000;
  const ids = options.ids ?? 1_000;
  const maxMs = (options.maxSeconds ?? 300) * 1000;
  const prefix = options.prefix ?? `topo.${Date.now().toString(36)}`;
  const client = await M3IngestClient.connect(cluster);
  const perId = new Map<string, number>();
  const perSecond: number[] = [];
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  let next = 0;
  let total = 0;
  const start = Date.now();
  let last = start;
  let stopped = false;
  const loop = (async () => {
    let tick = 0;
    while (!stopped && Date.now() - start < maxMs) {
      for (let i = 0; i < perTick; i++) {
        const id = `${prefix}.${next % ids}`;
        next += 1;
        const pending = client.counter(id, 1);
        perId.set(id, (perId.get(id) ?? 0) + 1);
        total += 1;
        if (pending !== undefined) await pending;
      }
      last = Date.now();
      const second = Math.floor((last - start) / 1000);
      perSecond[second] = (perSecond[second] ?? 0) + perTick;
      tick += 1;
      const wait = start + tick * tickMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    client,
    sent: () => total,
    stop: async () => {
      stopped = true;
      await loop;
      await client.flush();
      await client.close();
      return { prefix, perId, firstSendMs: start, lastSendMs: last, total, perSecond: [...perSecond].map((n) => n ?? 0) };
    },
  };
}

export interface WindowCheck {
  /** Ids whose sum over their distinct windows differs from what was sent: id → [sent, flushed]. */
  wrongTotals: Array<[string, number, number]>;
  /** (id, window end) pairs seen with two different values. */
  conflicts: number;
  /** Datapoints seen again with the same value (m3 is at-least-once: counted, not an error). */
  duplicates: number;
  /** Windows fully inside the load without a datapoint for some id: "id@windowEndIso". */
  missing: string[];
  windows: number;
}

const WINDOW_MS = 10_000;

/** Groups the sink's datapoints of the load's ids per (id, window) and compares with what was sent. */
export function checkWindows(datapoints: Array<{ id: string; timeNanos: bigint; value: number }>, sent: SentCounters): WindowCheck {
  const byKey = new Map<string, number>();
  let conflicts = 0;
  let duplicates = 0;
  const windowsById = new Map<string, Set<number>>();
  for (const p of datapoints) {
    if (!p.id.startsWith(`${sent.prefix}.`)) continue;
    const endMs = Number(p.timeNanos / 1_000_000n);
    const key = `${p.id}@${endMs}`;
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, p.value);
      const set = windowsById.get(p.id) ?? new Set<number>();
      set.add(endMs);
      windowsById.set(p.id, set);
    } else if (seen === p.value) duplicates += 1;
    else conflicts += 1;
  }
  const flushed = new Map<string, number>();
  for (const [key, value] of byKey) {
    const id = key.slice(0, key.lastIndexOf("@"));
    flushed.set(id, (flushed.get(id) ?? 0) + value);
  }
  const wrongTotals: Array<[string, number, number]> = [];
  for (const [id, n] of sent.perId) if ((flushed.get(id) ?? 0) !== n) wrongTotals.push([id, n, flushed.get(id) ?? 0]);
  // Windows [end − 10 s, end) wholly inside the send (each id gets a write every rate/ids⁻¹ s, well under 10 s).
  const missing: string[] = [];
  const firstEnd = Math.ceil(sent.firstSendMs / WINDOW_MS) * WINDOW_MS + WINDOW_MS;
  for (let end = firstEnd; end <= sent.lastSendMs - 1_000; end += WINDOW_MS) {
    for (const id of sent.perId.keys()) if (!windowsById.get(id)?.has(end)) missing.push(`${id}@${new Date(end).toISOString()}`);
  }
  return { wrongTotals, conflicts, duplicates, missing, windows: byKey.size };
}
