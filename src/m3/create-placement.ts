/** The placement phase of a start: create the plan's aggregator placement, then make it take traffic at once. */
import type { M3AdminClient } from "./admin-client";
import { withImmediateCutover } from "./placement";
import type { Placement, PlacementInitRequest } from "./types";

/**
 * The plan's placement steps: creates the aggregator placement from the plan's request,
 * then cuts every shard over at once (the nodes take traffic right away). Resolves with it.
 */
export async function createPlacement(admin: M3AdminClient, request: PlacementInitRequest): Promise<Placement> {
  await admin.initPlacement("m3aggregator", request);
  const created = await admin.getPlacement("m3aggregator");
  return (await admin.setPlacement("m3aggregator", withImmediateCutover(created.placement), created.version, true)).placement;
}
