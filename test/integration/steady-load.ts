/**
 * A steady, bounded counter load for topology tests, and its check against the sink, both
 * independent of the code under test: what was sent is counted here, per id; what arrived is read
 * from the sink's raw datapoints and grouped here, per (id, window).
 */
import { type DeliveryReport, M3IngestClient } from "../../src/ingest/client";
import type { TopologyChange } from "../../src/cluster/topology";
import { pendingChangeTimeMs } from "../../src/m3/placement-change";
import { poll } from "../../src/util/poll";
import { clusterNodeIds } from "./helpers";
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
  /** The client's own account after close (frames written, lost, dropped per endpoint): for diagnosis only. */
  delivery: DeliveryReport;
}

/**
 * How close to a change time T the load sends nothing: m3 windows an untimed write by its arrival
 * time at each owner, so copies that reach the old and the new owner on different sides of T are
 * counted 0 or 2 times (topology.test.ts shows it by name). 50 ms covers the client's 5 ms batching and
 * loopback jitter.
 */
export const CUTOVER_QUIET_MS = 50;

/**
 * `rate` counter increments (+1) per second over `ids` ids, spread evenly, until stop() or `maxSeconds`;
 * nothing within {@link CUTOVER_QUIET_MS} of a change time in the placement the client routes by.
 */
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
      const changeAt = pendingChangeTimeMs(client.router.placement);
      if (changeAt !== undefined && Math.abs(Date.now() - changeAt) < CUTOVER_QUIET_MS) {
        await new Promise((resolve) => setTimeout(resolve, changeAt + CUTOVER_QUIET_MS - Date.now()));
        continue;
      }
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
      await client.flush().catch(() => undefined);
      await client.close().catch(() => undefined);
      return { prefix, perId, firstSendMs: start, lastSendMs: last, total, perSecond: [...perSecond].map((n) => n ?? 0), delivery: client.report() };
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

const RATE = 5_000;
const IDS = 1_000;

/** The checks of a topology test on the cluster `getCluster()` returns. */
export function topologyChecks(getCluster: () => StartedM3AggregatorCluster) {
  /** Runs `change` under the steady load (3 s of load before and after), then reads every window from the sink. */
  async function underLoad<T>(change: () => Promise<T>): Promise<{ result: T; sent: SentCounters; check: WindowCheck }> {
    const cluster = getCluster();
    const load = await startSteadyLoad(cluster, { rate: RATE, ids: IDS, maxSeconds: 240 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const result = await change();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const { placement } = await cluster.admin.getPlacement("m3aggregator");
      // The client routes by the final placement.
      expect(load.client.placementVersion()).toBe((await cluster.admin.getPlacement("m3aggregator")).version);
      expect(load.client.router.instances().sort()).toEqual(Object.keys(placement.instances).sort());
      const sent = await load.stop();
      let check: WindowCheck | undefined;
      // The last windows are flushed once they close (10 s windows): wait until the totals are whole.
      await poll(() => {
        check = checkWindows(cluster.getSink().datapoints(), sent);
        return check.wrongTotals.length === 0 ? true : undefined;
      }, { timeoutMs: 60_000, intervalMs: 500, what: "every id's total in the sink" }).catch(() => undefined);
      return { result, sent, check: check as WindowCheck };
    } catch (error) {
      await load.stop().catch(() => undefined);
      throw error;
    }
  }

  /** Every id's total exact, no conflicting value, every window inside the load present. */
  function expectExactlyOnce({ sent, check }: { sent: SentCounters; check: WindowCheck }): void {
    expect(sent.total).toBeGreaterThan(RATE * 10); // the change ran under load
    if (check.wrongTotals.length > 0) {
      const deficit = check.wrongTotals.reduce((n, [, s, f]) => n + s - f, 0);
      const lossy = Object.entries(sent.delivery.endpoints).filter(([, e]) => e.lost > 0).map(([id, e]) => `${id} lost ${e.lost}: ${JSON.stringify(e.lostBy)}`);
      console.log(`${check.wrongTotals.length} ids off by ${deficit} in total; client: lost ${sent.delivery.lost}, dropped ${sent.delivery.dropped}, pending ${sent.delivery.pending}; ${lossy.join("; ")}`);
    }
    expect(check.wrongTotals.slice(0, 5)).toEqual([]);
    expect(check.conflicts).toBe(0);
    expect(check.missing.slice(0, 5)).toEqual([]);
  }

  /** One leader and verified followers per shard set, nothing moving, removed containers gone (asked from Docker). */
  async function expectSettled(change: TopologyChange): Promise<void> {
    const cluster = getCluster();
    const election = await cluster.waitForReady({ timeoutMs: 30_000 });
    expect(election.every((s) => s.leader !== undefined)).toBe(true);
    expect(Object.values(change.leadersAfter).every((l) => l !== null)).toBe(true);
    const placement = await cluster.placement();
    for (const instance of Object.values(placement.instances)) {
      for (const shard of instance.shards) {
        expect(shard.state).not.toBe("LEAVING");
        expect(shard.sourceId ?? "").toBe("");
        if (shard.state === "INITIALIZING") expect(shard.cutoverNanos).toBe("0"); // only never-moved shards of the initial placement
      }
    }
    // By node label: container names are Docker's random ones, so a name match would always pass.
    const nodeIds = await clusterNodeIds(cluster.getId());
    for (const id of change.removed) expect(nodeIds).not.toContain(id);
    for (const id of change.added) expect(nodeIds).toContain(id);
    expect(cluster.nodes.map((n) => n.id).sort()).toEqual(Object.keys(placement.instances).sort());
    // T on a 10 s boundary, written more than the margin before it.
    expect(change.changeTimeMs % 10_000).toBe(0);
    expect(change.changeTimeMs - change.placementWrittenAtMs).toBeGreaterThan(1_000);
  }

  return { underLoad, expectExactlyOnce, expectSettled };
}
