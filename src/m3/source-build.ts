/**
 * Images built from a local m3 checkout (the `m3Source` option), the
 * fixture's form of the seed's FORCE_BUILD / BUILD_M3AGGREGATOR workflow.
 * The tag derives from the tree's content: git HEAD plus the uncommitted diff
 * and untracked files in a git checkout, a hash of every file otherwise. So an
 * unchanged tree is never rebuilt (the images exist: no Go or Docker call),
 * and a changed one always is (Go's build cache keeps that fast).
 */
import { spawn, spawnSync } from "node:child_process";
import { forceBuild } from "../model/environment";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { imageExists } from "../docker/client";
import type { SourceImages } from "../model/components";

/** images/build.sh at the package root (same relative path from src/m3 and dist/m3). */
export const BUILD_SCRIPT = path.resolve(__dirname, "../../images/build.sh");

/** A build from source failed: `step` names it, `outputTail` holds the compiler's last lines. */
export class SourceBuildError extends Error {
  override readonly name = "SourceBuildError";
  constructor(readonly sourceDir: string, readonly step: string, readonly outputTail: string[]) {
    super(`building m3 from ${sourceDir} failed at step "${step}":\n${outputTail.join("\n")}`);
  }
}

// Folders that never hold what the two binaries are built from.
const SKIP = new Set([".git", "node_modules", "bin", ".idea", ".vscode", "_tools"]);

function hashTree(dir: string, hash: ReturnType<typeof createHash>, relative = ""): void {
  const entries = fs.readdirSync(path.join(dir, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    if (SKIP.has(entry.name)) continue;
    const name = path.join(relative, entry.name);
    if (entry.isDirectory()) hashTree(dir, hash, name);
    else if (entry.isFile()) hash.update(`${name}\0`).update(fs.readFileSync(path.join(dir, name))).update("\0");
  }
}

function git(dir: string, args: string[]): string | undefined {
  const result = spawnSync("git", ["-C", dir, ...args], { encoding: "buffer", maxBuffer: 1 << 30 });
  return result.status === 0 ? result.stdout.toString("latin1") : undefined;
}

/** The content tag of a tree: 16 hex digits. */
export function sourceTreeTag(dir: string): string {
  const hash = createHash("sha256");
  const head = git(dir, ["rev-parse", "HEAD"]);
  const inside = git(dir, ["rev-parse", "--show-toplevel"])?.trim();
  if (head !== undefined && inside !== undefined && path.resolve(inside) === path.resolve(dir)) {
    hash.update(`git ${head}`);
    hash.update(git(dir, ["diff", "HEAD", "--binary"]) ?? "");
    for (const file of (git(dir, ["ls-files", "--others", "--exclude-standard", "-z"]) ?? "").split("\0").filter(Boolean)) {
      hash.update(`${file}\0`).update(fs.readFileSync(path.join(dir, file))).update("\0");
    }
  } else {
    hashTree(dir, hash);
  }
  return hash.digest("hex").slice(0, 16);
}

/** Tags of the images of one tree. */
export function sourceImageTags(tag: string): Required<SourceImages> {
  return {
    m3aggregator: `m3agg-src/m3aggregator:${tag}`,
    m3coordinator: `m3agg-src/m3coordinator:${tag}`,
    m3aggregatorDebug: `m3agg-src/m3aggregator-debug:${tag}`,
  };
}

/** What a source build did. */
export interface SourceBuild {
  tag: string;
  images: SourceImages;
  /** false when the tree was unchanged and the images already existed. */
  built: boolean;
  ms: number;
}

/**
 * Makes sure the images of the tree exist, building them when not. `progress` gets
 * build.sh's step lines as they come. Rejects with a {@link SourceBuildError}.
 */
export async function buildFromSource(sourceDir: string, options: { debug: boolean; progress?: (line: string) => void }): Promise<SourceBuild> {
  const t0 = Date.now();
  const tag = sourceTreeTag(sourceDir);
  const all = sourceImageTags(tag);
  const images: SourceImages = { m3aggregator: all.m3aggregator, m3coordinator: all.m3coordinator, ...(options.debug ? { m3aggregatorDebug: all.m3aggregatorDebug } : {}) };
  const present = await Promise.all(Object.values(images).map((image) => imageExists(image)));
  if (present.every(Boolean) && !forceBuild()) {
    return { tag, images, built: false, ms: Date.now() - t0 };
  }
  const args = [BUILD_SCRIPT, "--m3-source", sourceDir, "--source-tag", tag, ...(options.debug ? ["--with-debug"] : [])];
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn("bash", args, { stdio: ["ignore", "pipe", "pipe"] });
    let partial = "";
    const take = (chunk: Buffer) => {
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        output.push(line);
        if (output.length > 400) output.shift();
        if (line.startsWith("[images ")) options.progress?.(line.replace(/^\[images\s+\d+s\]\s*/, ""));
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.once("error", reject);
    child.once("close", (status) => {
      if (partial !== "") output.push(partial);
      resolve(status);
    });
  });
  if (code !== 0) {
    const failed = output.map((l) => /^\[images\] FAILED at step "([^"]+)"/.exec(l)?.[1]).filter(Boolean).pop() ?? "build";
    throw new SourceBuildError(sourceDir, failed, output.slice(-40));
  }
  return { tag, images, built: true, ms: Date.now() - t0 };
}
