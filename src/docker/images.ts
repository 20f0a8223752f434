/**
 * Which image each component runs. Order: the `images` option, then the
 * component's env var, then M3AGG_IMAGES=local|official, then "auto": the
 * locally built image of the cluster's m3 version (npm run images) when the
 * engine has it, else the published image of that version where one exists.
 * With `m3Source` the m3 images are the ones built from that tree.
 */
import { imageExists } from "./client";
import { type M3Version, versionProfile } from "../model/versions";
import type { Component, ImageComponent, ImageNames, ResolvedImage, SourceImages } from "../model/components";

/** Env var that overrides each component's image. */
export const IMAGE_ENV_VARS: Readonly<Record<ImageComponent, string>> = {
  m3aggregator: "M3AGG_AGGREGATOR_IMAGE",
  m3coordinator: "M3AGG_COORDINATOR_IMAGE",
  etcd: "M3AGG_ETCD_IMAGE",
  m3aggregatorDebug: "M3AGG_AGGREGATOR_DEBUG_IMAGE",
};

const COMPONENTS_IN_ORDER: readonly Component[] = ["m3aggregator", "m3coordinator", "etcd"];

const buildHint = (version: M3Version, debug = false) =>
  `run \`npm run images -- --m3-version ${version}${debug ? " --with-debug" : ""}\` (or \`npx m3agg images --m3-version ${version}${debug ? " --with-debug" : ""}\`)`;

/**
 * The debug image (debug mode only): option, M3AGG_AGGREGATOR_DEBUG_IMAGE, the source build, else
 * the local build of the version, which must exist: no official debug image is published.
 */
export async function resolveDebugImage(explicit: Partial<ImageNames>, version: M3Version, fromSource?: SourceImages,
  env: NodeJS.ProcessEnv = process.env): Promise<ResolvedImage> {
  if (explicit.m3aggregatorDebug !== undefined) return { image: explicit.m3aggregatorDebug, source: "option" };
  const fromEnv = env.M3AGG_AGGREGATOR_DEBUG_IMAGE;
  if (fromEnv !== undefined && fromEnv !== "") return { image: fromEnv, source: "env" };
  if (fromSource?.m3aggregatorDebug !== undefined) return { image: fromSource.m3aggregatorDebug, source: "source" };
  const local = versionProfile(version).localImages.m3aggregatorDebug;
  if (!(await imageExists(local))) {
    throw new Error(`debug mode needs the image ${local}, which is not built: ${buildHint(version, true)}, or set M3AGG_AGGREGATOR_DEBUG_IMAGE`);
  }
  return { image: local, source: "local" };
}

/** Resolves every component's image; asks the engine only in "auto" mode. */
export async function resolveImages(
  explicit: Partial<ImageNames>,
  version: M3Version,
  fromSource?: SourceImages,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<Component, ResolvedImage>> {
  const mode = env.M3AGG_IMAGES ?? "auto";
  if (!["auto", "local", "official"].includes(mode)) {
    throw new Error(`invalid M3AGG_IMAGES=${JSON.stringify(mode)}: must be auto, local or official`);
  }
  const profile = versionProfile(version);
  const entries = await Promise.all(COMPONENTS_IN_ORDER.map(async (component): Promise<[Component, ResolvedImage]> => {
    const option = explicit[component];
    if (option !== undefined) return [component, { image: option, source: "option" }];
    const fromEnv = env[IMAGE_ENV_VARS[component]];
    if (fromEnv !== undefined && fromEnv !== "") return [component, { image: fromEnv, source: "env" }];
    if (component !== "etcd" && fromSource !== undefined) return [component, { image: fromSource[component], source: "source" }];
    const local = profile.localImages[component];
    const official = profile.officialImages[component];
    if (mode === "local" || (mode === "auto" && (await imageExists(local)))) return [component, { image: local, source: "local" }];
    if (official === undefined) {
      throw new Error(`no ${component} image for m3 ${version}: ${local} is not built and no official image of ${version} is published; ${buildHint(version)}`);
    }
    return [component, { image: official, source: "official" }];
  }));
  return Object.fromEntries(entries) as Record<Component, ResolvedImage>;
}
