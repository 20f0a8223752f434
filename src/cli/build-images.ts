/**
 * `m3agg up` builds what it needs first, like the seed's start_m3.sh: it runs
 * images/build.sh (a second when everything is up to date), which honours
 * FORCE_BUILD / BUILD_M3AGGREGATOR / BUILD_M3COORDINATOR and builds the debug
 * image in debug mode. Progress goes to stderr, so --json output stays clean.
 */
import { spawnSync } from "node:child_process";
import { skipBuild } from "../model/environment";
import * as fs from "node:fs";
import * as path from "node:path";

import { BUILD_SCRIPT } from "../m3/source-build";

export { BUILD_SCRIPT };

/** Why the build is skipped, or undefined when it should run. */
function skipReason(env: NodeJS.ProcessEnv): string | undefined {
  if (skipBuild(env)) return `M3AGG_SKIP_BUILD=${env.M3AGG_SKIP_BUILD}`;
  if (env.M3AGG_IMAGES === "official") return "M3AGG_IMAGES=official";
  if (!fs.existsSync(BUILD_SCRIPT)) return `${BUILD_SCRIPT} is not there`;
  if (spawnSync("go", ["version"]).status !== 0) return "Go is not installed (needed to build images offline)";
  return undefined;
}

/** Runs the build (inheriting stderr for progress); throws naming the failed step's exit code. */
export function buildImages(debug: boolean, m3Version: string, env: NodeJS.ProcessEnv = process.env): void {
  const reason = skipReason(env);
  if (reason !== undefined) {
    process.stderr.write(`m3agg: not building images (${reason}); using what the engine has or the official images\n`);
    return;
  }
  const result = spawnSync("bash", [BUILD_SCRIPT, "--m3-version", m3Version, ...(debug ? ["--with-debug"] : [])], { stdio: ["ignore", process.stderr, "inherit"], env });
  if (result.status !== 0) throw new Error(`images/build.sh failed (exit ${result.status}); its output above names the step`);
}

/**
 * `m3agg images`: runs the build script with `args`, its progress (stdout and
 * stderr) on our stderr, and returns its exit code (1 when a signal ended it).
 * Unlike {@link buildImages} nothing is skipped: the user asked for the build.
 */
export function runImageBuild(args: readonly string[], script: string = BUILD_SCRIPT, env: NodeJS.ProcessEnv = process.env): number {
  if (!fs.existsSync(script)) {
    process.stderr.write(`m3agg: ${script} is not there (the package ships it; is the install complete?)\n`);
    return 1;
  }
  const result = spawnSync("bash", [script, ...args], { stdio: ["ignore", process.stderr, "inherit"], env });
  if (result.error !== undefined) {
    process.stderr.write(`m3agg: could not run bash ${script}: ${result.error.message}\n`);
    return 1;
  }
  if (result.status === null) process.stderr.write(`m3agg: ${path.basename(script)} was ended by ${result.signal}\n`);
  return result.status ?? 1;
}
