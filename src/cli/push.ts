/**
 * `m3agg images --push REGISTRY [--m3-version V | --all-versions]`: builds (or finds up to date)
 * the images of the version(s), then tags and pushes m3aggregator, m3coordinator, etcd (and the load
 * generator, where the version has one) to the
 * registry, prints each by digest and records the digests (docker/registry.ts), which
 * `m3agg render --target kubernetes --registry REGISTRY` then puts into the manifests.
 */
import { pushImage, type PushedImage, recordPushes } from "../docker/registry";
import { parseRegistry } from "../model/registry";
import { defaultM3Version, supportedM3Versions, versionProfile, type M3Version } from "../model/versions";
import { m3VersionSetting, skipBuild } from "../model/environment";
import { runImageBuild } from "./build-images";
import { BUILD_SCRIPT } from "../m3/source-build";
import * as fs from "node:fs";
import * as path from "node:path";

/** True when images/build.sh builds a load generator image for the version (images/go/loadgen-<version>). */
function hasLoadgen(version: M3Version): boolean {
  return fs.existsSync(path.join(path.dirname(BUILD_SCRIPT), "go", `loadgen-${version}`));
}

/** The versions the build flags select (as the image cache reads them). */
export function selectedVersions(args: readonly string[], env: NodeJS.ProcessEnv = process.env): M3Version[] {
  if (args.includes("--all-versions")) return supportedM3Versions();
  const versions: string[] = [];
  for (let i = 0; i < args.length; i++) if (args[i] === "--m3-version") versions.push(args[++i] as string);
  return (versions.length > 0 ? versions : [m3VersionSetting(env) ?? defaultM3Version()]) as M3Version[];
}

/**
 * The local images a push sends for these versions: per version m3aggregator, m3coordinator and etcd
 * (each once), and the load generator of `m3agg load --target kubernetes` where the version has one.
 */
export function imagesToPush(versions: readonly M3Version[]): string[] {
  const images = versions.flatMap((v) => {
    const local = versionProfile(v).localImages;
    return [local.m3aggregator, local.m3coordinator, local.etcd, ...(hasLoadgen(v) ? [local.loadgen] : [])];
  });
  return [...new Set(images)];
}

export async function runImagePush(args: readonly string[], registryValue: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const registry = parseRegistry(registryValue);
  const versions = selectedVersions(args, env);
  if (!skipBuild(env)) {
    const code = runImageBuild(args);
    if (code !== 0) return code;
  }
  const pushed: PushedImage[] = [];
  const t0 = Date.now();
  try {
    for (const local of imagesToPush(versions)) {
      process.stderr.write(`m3agg: pushing ${local} to ${registry.prefix} …\n`);
      const p = await pushImage(registry, local);
      pushed.push(p);
      process.stdout.write(`${p.reference}  (${p.tag}, ${(p.ms / 1000).toFixed(1)} s)\n`);
    }
  } finally {
    // What was pushed before a failure is recorded too: it is in the registry.
    if (pushed.length > 0) process.stderr.write(`m3agg: digests recorded in ${recordPushes(pushed)}\n`);
  }
  process.stderr.write(`m3agg: pushed ${pushed.length} images in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}
