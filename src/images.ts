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
  local: ImageNames;
  official: ImageNames;
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
};

/** Where an image name came from. */
export type ImageSource = "option" | "env" | "local" | "official" | "attached";

export interface ResolvedImage {
  image: string;
  source: ImageSource;
}

const COMPONENTS: Array<keyof ImageNames> = ["m3aggregator", "m3coordinator", "etcd"];

/** Resolves every component's image; asks the engine only in "auto" mode. */
export async function resolveImages(
  explicit: Partial<ImageNames>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<keyof ImageNames, ResolvedImage>> {
  const mode = env.M3AGG_IMAGES ?? "auto";
  if (!["auto", "local", "official"].includes(mode)) {
    throw new Error(`invalid M3AGG_IMAGES=${JSON.stringify(mode)}: must be auto, local or official`);
  }
  const known = knownImages();
  const entries = await Promise.all(COMPONENTS.map(async (component): Promise<[keyof ImageNames, ResolvedImage]> => {
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
  return Object.fromEntries(entries) as Record<keyof ImageNames, ResolvedImage>;
}
