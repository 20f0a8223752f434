/**
 * Which image each component runs. Order: the `images` option, then the
 * component's env var, then M3AGG_IMAGES=local|official, then "auto": the
 * locally built image (npm run images) when the engine has it, else the
 * official published image of the same versions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { imageExists } from "./docker";
import type { ImageNames } from "./options";

interface ImagesFile {
  m3Version: string;
  etcdVersion: string;
  delveVersion: string;
  local: Required<ImageNames>;
  official: Omit<ImageNames, "m3aggregatorDebug">;
}

/** images/images.json: the single list of versions and tags, shared with images/build.sh. */
export const IMAGES_FILE = path.resolve(__dirname, "../images/images.json");

let imagesFile: ImagesFile | undefined;

/** Versions and tags from images/images.json. */
export function knownImages(): ImagesFile {
  imagesFile ??= JSON.parse(fs.readFileSync(IMAGES_FILE, "utf8")) as ImagesFile;
  return imagesFile;
}

/** Env var that overrides each component's image. */
export const IMAGE_ENV_VARS: Readonly<Record<keyof ImageNames, string>> = {
  m3aggregator: "M3AGG_AGGREGATOR_IMAGE",
  m3coordinator: "M3AGG_COORDINATOR_IMAGE",
  etcd: "M3AGG_ETCD_IMAGE",
  m3aggregatorDebug: "M3AGG_AGGREGATOR_DEBUG_IMAGE",
};

/** Where an image name came from. */
export type ImageSource = "option" | "env" | "local" | "official" | "attached";

export interface ResolvedImage {
  image: string;
  source: ImageSource;
}

type Component = "m3aggregator" | "m3coordinator" | "etcd";
const COMPONENTS: Component[] = ["m3aggregator", "m3coordinator", "etcd"];

/**
 * The debug image (debug mode only): option, M3AGG_AGGREGATOR_DEBUG_IMAGE, else the local build,
 * which must exist: no official debug image is published.
 */
export async function resolveDebugImage(explicit: Partial<ImageNames>, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedImage> {
  if (explicit.m3aggregatorDebug !== undefined) return { image: explicit.m3aggregatorDebug, source: "option" };
  const fromEnv = env.M3AGG_AGGREGATOR_DEBUG_IMAGE;
  if (fromEnv !== undefined && fromEnv !== "") return { image: fromEnv, source: "env" };
  const local = knownImages().local.m3aggregatorDebug;
  if (!(await imageExists(local))) {
    throw new Error(`debug mode needs the image ${local}, which is not built: run \`npm run images -- --with-debug\` (or set M3AGG_AGGREGATOR_DEBUG_IMAGE)`);
  }
  return { image: local, source: "local" };
}

/** Resolves every component's image; asks the engine only in "auto" mode. */
export async function resolveImages(
  explicit: Partial<ImageNames>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<Component, ResolvedImage>> {
  const mode = env.M3AGG_IMAGES ?? "auto";
  if (!["auto", "local", "official"].includes(mode)) {
    throw new Error(`invalid M3AGG_IMAGES=${JSON.stringify(mode)}: must be auto, local or official`);
  }
  const known = knownImages();
  const entries = await Promise.all(COMPONENTS.map(async (component): Promise<[Component, ResolvedImage]> => {
    const option = explicit[component];
    if (option !== undefined) return [component, { image: option, source: "option" }];
    const fromEnv = env[IMAGE_ENV_VARS[component]];
    if (fromEnv !== undefined && fromEnv !== "") return [component, { image: fromEnv, source: "env" }];
    const local = known.local[component];
    if (mode === "local" || (mode === "auto" && (await imageExists(local)))) {
      return [component, { image: local, source: "local" }];
    }
    return [component, { image: known.official[component], source: "official" }];
  }));
  return Object.fromEntries(entries) as Record<Component, ResolvedImage>;
}
