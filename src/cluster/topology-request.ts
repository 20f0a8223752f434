/**
 * Validation of addNodes / removeNodes / replaceNode requests against the live placement, before
 * any container starts or any admin call is made. Pure: a bad request throws an
 * {@link InvalidOptionError} naming the value and the rule.
 */
import { movingShards } from "../m3/placement-change";
import { shardSetsOf } from "../m3/placement";
import type { Placement } from "../m3/types";
import { InvalidOptionError } from "../model/options";

/** A change is requested while an earlier one has not finished (moving shards in the placement). */
export class TopologyBusyError extends Error {
  override readonly name = "TopologyBusyError";
}

/** Throws {@link TopologyBusyError} when shards are still moving (an earlier change has not finished). */
export function assertNoChangeInFlight(placement: Placement): void {
  const moving = movingShards(placement);
  if (moving.length > 0) {
    const owners = [...new Set(moving.map((m) => `${m.instance} (${m.shard.state})`))].sort();
    throw new TopologyBusyError(`an earlier placement change has not finished: ${moving.length} shards are moving (${owners.join(", ")}); ` +
      "wait for it (each change resolves only when complete) before the next one");
  }
}

/** `addNodes(count)`: count is a positive multiple of rf (m3 adds whole shard sets). */
export function validateAddCount(count: unknown, rf: number): number {
  if (typeof count !== "number" || !Number.isInteger(count) || count < rf || count % rf !== 0) {
    throw new InvalidOptionError("count", count,
      `must be a positive multiple of rf=${rf}: a mirrored placement adds whole shard sets of rf replicas`);
  }
  return count;
}

function knownIds(placement: Placement): string {
  return Object.keys(placement.instances).sort().join(", ");
}

/**
 * `removeNodes(ids)`: known ids, no repeats, whole shard sets only (a partial set is refused naming
 * its members), and at least one shard set stays.
 */
export function validateRemove(ids: unknown, placement: Placement): string[] {
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === "string")) {
    throw new InvalidOptionError("ids", ids, "must be a non-empty list of instance ids");
  }
  const list = ids as string[];
  const repeated = list.filter((id, i) => list.indexOf(id) !== i);
  if (repeated.length > 0) throw new InvalidOptionError("ids", ids, `names ${repeated.join(", ")} more than once`);
  for (const id of list) {
    if (placement.instances[id] === undefined) {
      throw new InvalidOptionError("ids", ids, `${id} is not an instance of the placement (instances: ${knownIds(placement)})`);
    }
  }
  const sets = shardSetsOf(placement);
  const touched = new Set(list.map((id) => placement.instances[id]?.shardSetId as number));
  for (const setId of touched) {
    const members = sets.get(setId) ?? [];
    const missing = members.filter((m) => !list.includes(m));
    if (missing.length > 0) {
      throw new InvalidOptionError("ids", ids,
        `removes part of shard set ${setId}, whose members are ${members.join(", ")}: m3 removes whole shard sets, so add ${missing.join(", ")}`);
    }
  }
  if (touched.size >= sets.size) {
    throw new InvalidOptionError("ids", ids, `would remove every shard set (${sets.size}): at least one must stay to own the shards`);
  }
  return [...list].sort();
}

/** `replaceNode(id)`: a known id. */
export function validateReplace(id: unknown, placement: Placement): string {
  if (typeof id !== "string" || placement.instances[id] === undefined) {
    throw new InvalidOptionError("id", id, `must be an instance of the placement (instances: ${knownIds(placement)})`);
  }
  return id;
}
