/**
 * Which image each component runs. Order: the `images` option, then the
 * component's env var, then M3AGG_IMAGES=local|official, then "auto": the
 * locally built image of the cluster's m3 version (npm run images) when the
 * engine has it, else the published image of that version where one exists.
 * With `m3Source` the m3 images are the ones built from that tree.
 */
import { imageExists } from "./client";
import { type M3Version, versionProfile } from "../model/versions";
import type { Component, ResolvedImage, SourceImages } from "../model/components";
import type { ResolvedClusterOptions } from "../model/options";

const COMPONENTS_IN_ORDER: readonly Component[] = ["m3aggregator", "m3coordinator", "etcd"];

const buildHint = (version: M3Version, debug = false) =>
  `run \`npm run images -- --m3-version ${version}${debug ? " --with-debug" : ""}\` (or \`npx m3agg images --m3-version ${version}${debug ? " --with-debug" : ""}\`)`;

/** What image resolution reads of the options: the `images` option, the env's images and mode, the version. */
export type ImageChoice = Pick<ResolvedClusterOptions, "images" | "imagesFromEnv" | "imageMode" | "m3Version">;

/**
 * The debug image (debug mode only): option, M3AGG_AGGREGATOR_DEBUG_IMAGE, the source build, else
 * the local build of the version, which must exist: no official debug image is published.
 */
export async function resolveDebugImage(choice: ImageChoice, fromSource?: SourceImages): Promise<ResolvedImage> {
  const version = choice.m3Version;
  if (choice.images.m3aggregatorDebug !== undefined) return { image: choice.images.m3aggregatorDebug, source: "option" };
  const fromEnv = choice.imagesFromEnv.m3aggregatorDebug;
  if (fromEnv !== undefined) return { image: fromEnv, source: "env" };
  if (fromSource?.m3aggregatorDebug !== undefined) return { image: fromSource.m3aggregatorDebug, source: "source" };
  const local = versionProfile(version).localImages.m3aggregatorDebug;
  if (!(await imageExists(local))) {
    throw new Error(`debug mode needs the image ${local}, which is not built: ${buildHint(version, true)}, or set M3AGG_AGGREGATOR_DEBUG_IMAGE`);
  }
  return { image: local, source: "local" };
}

/** Resolves every component's image; asks the engine only in "auto" mode. */
export async function resolveImages(choice: ImageChoice, fromSource?: SourceImages): Promise<Record<Component, ResolvedImage>> {
  const { m3Version: version, imageMode: mode } = choice;
  const profile = versionProfile(version);
  const entries = await Promise.all(COMPONENTS_IN_ORDER.map(async (component): Promise<[Component, ResolvedImage]> => {
    const option = choice.images[component];
    if (option !== undefined) return [component, { image: option, source: "option" }];
    const fromEnv = choice.imagesFromEnv[component];
    if (fromEnv !== undefined) return [component, { image: fromEnv, source: "env" }];
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
