/**
 * The environment variables the package reads, in one place, with one boolean convention
 * ({@link envFlag}). What defines a cluster (version, source, images, TLS default, reuse) is read
 * once per `resolveOptions` by {@link readClusterEnvironment} and kept in the resolved options, so
 * the reuse key and the plan label see it; the process-wide settings (port pool, folders, logs)
 * each have one reader here. README "Environment variables" lists them all.
 */
import type { ImageComponent } from "./components";

/** On: `1`, `true` or `yes` (any case). Anything else, or unset, is off. */
export function envFlag(value: string | undefined): boolean {
  return /^(1|true|yes)$/i.test(value ?? "");
}

/** A set, non-empty value, else undefined. */
function envValue(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** Env var that overrides each component's image. */
export const IMAGE_ENV_VARS: Readonly<Record<ImageComponent, string>> = {
  m3aggregator: "M3AGG_AGGREGATOR_IMAGE",
  m3coordinator: "M3AGG_COORDINATOR_IMAGE",
  etcd: "M3AGG_ETCD_IMAGE",
  m3aggregatorDebug: "M3AGG_AGGREGATOR_DEBUG_IMAGE",
};

/** What the environment says about a cluster to start; options given in code win over it. */
export interface ClusterEnvironment {
  /** M3_SOURCE_DIR: default `m3Source`. */
  m3Source: string | undefined;
  /** M3AGG_M3_VERSION: default `m3Version`. */
  m3Version: string | undefined;
  /** M3AGG_REUSE: default `reuse`. */
  reuse: boolean;
  /** DISABLE_TLS (the seed's variable): TLS off by default. */
  disableTls: boolean;
  /** M3AGG_IMAGES: where unset images come from ("auto", "local" or "official"; checked by the options). */
  imageMode: string | undefined;
  /** M3AGG_*_IMAGE: image names per component. */
  images: Partial<Record<ImageComponent, string>>;
}

/** Reads every variable that defines a cluster, at once. */
export function readClusterEnvironment(env: NodeJS.ProcessEnv = process.env): ClusterEnvironment {
  const images: Partial<Record<ImageComponent, string>> = {};
  for (const [component, name] of Object.entries(IMAGE_ENV_VARS) as Array<[ImageComponent, string]>) {
    const image = envValue(env[name]);
    if (image !== undefined) images[component] = image;
  }
  return {
    m3Source: envValue(env.M3_SOURCE_DIR),
    m3Version: envValue(env.M3AGG_M3_VERSION),
    reuse: envFlag(env.M3AGG_REUSE),
    disableTls: envFlag(env.DISABLE_TLS),
    imageMode: envValue(env.M3AGG_IMAGES),
    images,
  };
}

/** FORCE_BUILD: rebuild images (images/build.sh, and the source build) even when up to date. */
export const forceBuild = (env: NodeJS.ProcessEnv = process.env): boolean => envFlag(env.FORCE_BUILD);
/** M3AGG_SKIP_BUILD: `m3agg up` does not run images/build.sh. */
export const skipBuild = (env: NodeJS.ProcessEnv = process.env): boolean => envFlag(env.M3AGG_SKIP_BUILD);
/** M3AGG_WRITE_LOGS=always: the jest helper writes container logs even when every test passed. */
export const writeLogsAlways = (env: NodeJS.ProcessEnv = process.env): boolean => env.M3AGG_WRITE_LOGS === "always";
/** M3AGG_PORT_RANGE: `FROM-TO`, the pool allocated ports come from (parsed by ports/ephemeral.ts). */
export const portRangeSetting = (env: NodeJS.ProcessEnv = process.env): string | undefined => envValue(env.M3AGG_PORT_RANGE);
/** M3AGG_PORTS_DIR: folder of the cross-process port reservations. */
export const portsDirSetting = (env: NodeJS.ProcessEnv = process.env): string | undefined => envValue(env.M3AGG_PORTS_DIR);
/** M3AGG_STATE_DIR: where `m3agg up` writes state.json. */
export const stateDirSetting = (env: NodeJS.ProcessEnv = process.env): string | undefined => env.M3AGG_STATE_DIR;
