/**
 * The plan label: a plan's inputs as JSON on every container of the cluster, so another process
 * rebuilds the same plan (and so the same handle) from the running containers alone.
 */
import type { Component, ImageComponent, ResolvedImage } from "../model/components";
import { LABEL_PLAN } from "../model/labels";
import type { PortPlan } from "../model/network";
import type { ResolvedClusterOptions } from "../model/options";

/** Version of the plan label's JSON; a label of another version is not attached to. */
export const PLAN_LABEL_VERSION = 1;

/** The images a plan runs: etcd, coordinator and aggregator always, the debug aggregator with `debug`. */
export type PlanImages = Record<Component, ResolvedImage> & Partial<Record<ImageComponent, ResolvedImage>>;

/** What a plan is made of: the only state a cluster keeps (in its plan label). */
export interface PlanInputs {
  options: ResolvedClusterOptions;
  ports: PortPlan;
  images: PlanImages;
}

/** The plan label's value: `{ "v": 1, options, ports, images }`. */
export function encodePlanLabel(inputs: PlanInputs): string {
  return JSON.stringify({ v: PLAN_LABEL_VERSION, options: inputs.options, ports: inputs.ports, images: inputs.images });
}

/** Reads a plan label back; throws naming the rule when it is not one this version wrote. */
export function decodePlanLabel(text: string): PlanInputs {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`label ${LABEL_PLAN} is not JSON: ${(error as Error).message}`);
  }
  const v = (value as { v?: unknown } | null)?.v;
  if (v !== PLAN_LABEL_VERSION) throw new Error(`label ${LABEL_PLAN} has version ${JSON.stringify(v)}, this package reads version ${PLAN_LABEL_VERSION}`);
  const { options, ports, images } = value as Partial<PlanInputs>;
  if (options === undefined || ports === undefined || images === undefined) {
    throw new Error(`label ${LABEL_PLAN} lacks ${[options === undefined && "options", ports === undefined && "ports", images === undefined && "images"].filter(Boolean).join(", ")}`);
  }
  return { options, ports, images };
}
