/**
 * What each local image must have been built from: images/build.sh --list-inputs prints, per
 * image, the hash of its inputs, the value the build stores in the image's `org.m3agg.inputs`
 * label. Doctor compares the two; the image cache names its files by it.
 */
import { spawnSync } from "node:child_process";
import { BUILD_SCRIPT } from "./source-build";
import type { M3Version } from "../model/versions";
import { defaultM3Version } from "../model/versions";

export interface ImageInput {
  m3Version: M3Version;
  /** m3agg-local/<component>:<version>. */
  tag: string;
  /** Hash of everything that determines the image (its `org.m3agg.inputs` label). */
  hash: string;
  /** The debug image (built only with --with-debug). */
  debug: boolean;
  /** The version a cluster runs by default. */
  defaultVersion: M3Version;
}

/** Parses `--list-inputs` output: "<version> <tag> <hash>" lines. */
export function parseImageInputs(text: string, defaultVersion: M3Version): ImageInput[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").map((line) => {
    const [m3Version, tag, hash] = line.split(/\s+/);
    if (m3Version === undefined || tag === undefined || hash === undefined || !/^[0-9a-f]{16}$/.test(hash)) {
      throw new Error(`images/build.sh --list-inputs printed an unexpected line: ${JSON.stringify(line)}`);
    }
    return { m3Version: m3Version as M3Version, tag, hash, debug: tag.includes("-debug:"), defaultVersion };
  });
}

/** Every release image of every supported version (`debug`: with the debug images). */
export function imageInputs(options: { debug?: boolean; versions?: string[]; script?: string } = {}): ImageInput[] {
  const versions = options.versions === undefined ? ["--all-versions"] : options.versions.flatMap((v) => ["--m3-version", v]);
  const result = spawnSync("bash", [options.script ?? BUILD_SCRIPT, "--list-inputs", ...versions, ...(options.debug ? ["--with-debug"] : [])], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`images/build.sh --list-inputs failed (exit ${result.status}): ${result.stderr.trim().split("\n").slice(-3).join(" ")}`);
  return parseImageInputs(result.stdout, defaultM3Version());
}
