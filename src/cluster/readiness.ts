/**
 * Cluster readiness: what "ready" means for an aggregator cluster, beyond
 * each container's /health. Every shard set must have exactly one leader and
 * every other replica must be a verified follower (it checked in etcd that the
 * leader is another member of its shard set), i.e. a replica ready to take over.
 */
import type { AggregatorApi, AggregatorStatus } from "../m3/aggregator-api";
import { poll } from "../util/poll";

/** Election state of one shard set. */
export interface ShardSetElection {
  shardSetId: number;
  leader: string | undefined;
  members: Array<{ id: string } & AggregatorStatus>;
}

/** Reads /status of every member of every shard set. Unreachable nodes report "unknown". */
export async function readElection(
  shardSets: Map<number, string[]>,
  apis: Map<string, AggregatorApi>,
): Promise<ShardSetElection[]> {
  return Promise.all([...shardSets.entries()].map(async ([shardSetId, ids]) => {
    const members = await Promise.all(ids.map(async (id) => {
      const api = apis.get(id);
      if (api === undefined) throw new Error(`placement instance ${id} is not a node of this cluster`);
      try {
        return { id, ...(await api.status()) };
      } catch {
        return { id, electionState: "unknown" as const, canLead: false };
      }
    }));
    const leaders = members.filter((m) => m.electionState === "leader");
    return { shardSetId, leader: leaders.length === 1 ? leaders[0]?.id : undefined, members };
  }));
}

/** True when every shard set has one leader and only verified followers besides it. */
export function isElectionSettled(elections: ShardSetElection[]): boolean {
  return elections.every((set) =>
    set.members.filter((m) => m.electionState === "leader").length === 1 &&
    set.members.every((m) => m.electionState === "leader" || m.electionState === "follower"));
}

/** One line per shard set, for errors and the CLI. */
export function describeElection(elections: ShardSetElection[]): string {
  return elections.map((set) => `shard set ${set.shardSetId}: ` +
    set.members.map((m) => `${m.id}=${m.electionState}${m.canLead ? "" : "(canLead=false)"}`).join(", "))
    .join("\n");
}

/** Polls until {@link isElectionSettled}; rejects after `timeoutMs` with the last states, or when `signal` aborts. */
export async function waitForElection(
  shardSets: Map<number, string[]>,
  apis: Map<string, AggregatorApi>,
  timeoutMs: number,
  intervalMs = 25,
  signal?: AbortSignal,
): Promise<ShardSetElection[]> {
  let last: ShardSetElection[] = [];
  return poll(async () => {
    last = await readElection(shardSets, apis);
    return isElectionSettled(last) ? last : undefined;
  }, {
    timeoutMs, intervalMs, signal, what: "settled election",
    onTimeout: () => new Error(`no settled election after ${timeoutMs} ms (want exactly one leader and verified followers per shard set):\n${describeElection(last)}`),
  });
}
