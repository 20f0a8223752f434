/**
 * A folder of `docker save` archives, one per image, named by the image's input hash
 * (`<name>-<version>@<hash>.tar`), for CI caches (GitHub Actions, GitLab): a runner restores the
 * folder, loads what matches, builds only the rest, and saves what it built. An archive whose
 * hash is not the one the package's inputs give now is never loaded, so a stale cache cannot
 * run old binaries; it is deleted when a newer archive of the same image is saved.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** One image the cache knows: its tag and the hash of its inputs now. */
export interface CacheEntry {
  tag: string;
  hash: string;
}

/** What happened to each image. */
export interface CacheResult {
  tag: string;
  hash: string;
  action: "saved" | "already saved" | "loaded" | "already up to date" | "not in cache" | "not built";
  file?: string;
  ms: number;
}

/** `m3agg-local/m3aggregator:v1.6.0` + hash → `m3aggregator-v1.6.0@<hash>.tar`. */
export function archiveName(entry: CacheEntry): string {
  const base = entry.tag.replace(/^.*\//, "").replace(/[^A-Za-z0-9._-]/g, "-");
  return `${base}@${entry.hash}.tar`;
}

/** The `org.m3agg.inputs` label of the local image `tag`, or undefined when the engine lacks it. */
export function imageInputsLabel(tag: string): string | undefined {
  const result = spawnSync("docker", ["image", "inspect", "-f", '{{index .Config.Labels "org.m3agg.inputs"}}', tag], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function docker(args: string[]): void {
  const result = spawnSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")} failed (exit ${result.status}): ${(result.stderr || result.error?.message || "").trim()}`);
}

/**
 * Saves every up-to-date image that has no archive yet into `dir`. An image that is missing or
 * built from other inputs is not saved ("not built"): build it first.
 */
export function saveImages(dir: string, entries: CacheEntry[], log: (line: string) => void = () => undefined): CacheResult[] {
  fs.mkdirSync(dir, { recursive: true });
  return entries.map((entry) => {
    const t0 = Date.now();
    const file = path.join(dir, archiveName(entry));
    if (imageInputsLabel(entry.tag) !== entry.hash) return { ...entry, action: "not built", ms: 0 };
    if (fs.existsSync(file)) return { ...entry, action: "already saved", file, ms: 0 };
    const partial = `${file}.partial-${process.pid}`;
    log(`saving ${entry.tag} → ${file}`);
    try {
      docker(["save", "-o", partial, entry.tag]);
      fs.renameSync(partial, file); // complete or absent: a cache cut off mid-save never holds half an archive
    } finally {
      fs.rmSync(partial, { force: true });
    }
    // Archives of older inputs of the same image are dead weight in the cache.
    const prefix = archiveName(entry).split("@")[0] + "@";
    for (const other of fs.readdirSync(dir)) {
      if (other.startsWith(prefix) && other.endsWith(".tar") && other !== path.basename(file)) fs.rmSync(path.join(dir, other), { force: true });
    }
    return { ...entry, action: "saved", file, ms: Date.now() - t0 };
  });
}

/**
 * Loads, for every image the engine lacks (or has from other inputs), the archive of its current
 * hash when `dir` has one. Checks the loaded image's label: an archive that does not hold what
 * its name says fails the load.
 */
export function loadImages(dir: string, entries: CacheEntry[], log: (line: string) => void = () => undefined): CacheResult[] {
  return entries.map((entry) => {
    const t0 = Date.now();
    if (imageInputsLabel(entry.tag) === entry.hash) return { ...entry, action: "already up to date", ms: 0 };
    const file = path.join(dir, archiveName(entry));
    if (!fs.existsSync(file)) return { ...entry, action: "not in cache", ms: 0 };
    log(`loading ${file}`);
    docker(["load", "-q", "-i", file]);
    const label = imageInputsLabel(entry.tag);
    if (label !== entry.hash) {
      throw new Error(`${file} did not give ${entry.tag} with inputs ${entry.hash} (the engine has ${label ?? "no such image"}): delete the archive`);
    }
    return { ...entry, action: "loaded", file, ms: Date.now() - t0 };
  });
}
