/**
 * Your own m3: a copy of m3 v1.6.0's module source with a patched start-up log line is built
 * and run by start({ m3Source }); a second patch is rebuilt; an unchanged tree is not; in debug
 * mode delve reports the checkout's own source paths (built without -trimpath).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { M3AggregatorCluster } from "../../src/cluster/start";
import type { StartupTimings } from "../../src/model/phases";
import { delveCall } from "../../src/debug/delve-client";
import { uniqueClusterId } from "./helpers";

const PATCHED_FILE = "src/cmd/services/m3aggregator/config/runtime.go";
const ORIGINAL = "current write value limit per second";

function m3ModuleDir(): string {
  const result = spawnSync("go", ["mod", "download", "-json", "github.com/m3db/m3@v1.6.0"], { encoding: "utf8", cwd: os.tmpdir() });
  if (result.status !== 0) throw new Error(`go mod download failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { Dir: string }).Dir;
}

/** Images the test built, removed at the end so runs do not pile them up. */
const builtImages = new Set<string>();

async function startAndFind(source: string, line: string): Promise<{ timings: StartupTimings; built: boolean; found: boolean }> {
  const events: string[] = [];
  const cluster = await M3AggregatorCluster.start({
    nodes: 2, rf: 2, m3Source: source, tls: false, clusterId: uniqueClusterId("src"),
    onProgress: (e) => { if (e.phase === "build" && e.state === "progress") events.push(e.detail ?? ""); },
  });
  try {
    expect(cluster.getM3Source()).toBe(source);
    expect(cluster.images.m3aggregator).toMatch(/^m3agg-src\/m3aggregator:[0-9a-f]{16}$/);
    builtImages.add(cluster.images.m3aggregator).add(cluster.images.m3coordinator);
    const found = cluster.node(0).logLines().some((l) => l.includes(line));
    return { timings: cluster.startupTimings, built: events.some((e) => e.includes("go build")), found };
  } finally {
    await cluster.stop();
  }
}

test("start({ m3Source }) builds the checkout, runs the patched line, rebuilds a changed tree, reuses an unchanged one", async () => {
  const source = fs.mkdtempSync(path.join(os.tmpdir(), "m3-source-"));
  fs.cpSync(m3ModuleDir(), source, { recursive: true });
  spawnSync("chmod", ["-R", "u+w", source]); // the module cache is read-only
  const file = path.join(source, PATCHED_FILE);
  const patch = (text: string) => fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/"(current write value limit per second|m3agg patched [^"]*)"/, `"${text}"`));
  // A token of this run: the trees (and so the image tags) are new, whatever earlier runs left.
  const run = `${process.pid}.${Date.now()}`;
  try {
    patch(`m3agg patched line one ${run}`);
    const first = await startAndFind(source, `m3agg patched line one ${run}`);
    expect(first).toMatchObject({ built: true, found: true });

    patch(`m3agg patched line two ${run}`);
    const second = await startAndFind(source, `m3agg patched line two ${run}`);
    expect(second).toMatchObject({ built: true, found: true });

    const third = await startAndFind(source, `m3agg patched line two ${run}`);
    expect(third).toMatchObject({ built: false, found: true });
    console.log(`source build: first ${first.timings.build} ms, after a one-line change ${second.timings.build} ms, unchanged ${third.timings.build} ms`);
    expect(fs.readFileSync(file, "utf8")).not.toContain(ORIGINAL);

    // Debug mode: the debug image is built from the same tree, and delve (the node stopped before
    // main, so it answers) names the checkout's own files: IDE breakpoints need no path mapping.
    const debug = await M3AggregatorCluster.start({ nodes: 2, rf: 2, m3Source: source, tls: false, debug: { waitForDebugger: true }, clusterId: uniqueClusterId("srcdbg") });
    try {
      builtImages.add(debug.images.m3aggregatorDebug as string);
      const node = debug.node(0);
      const files = await delveCall<{ Sources: string[] }>(node.getHost(), node.getDebugPort() as number, "ListSources",
        { Filter: "aggregator/aggregator/aggregator\\.go$" }, 30_000);
      expect(files.Sources).toEqual([path.join(source, "src/aggregator/aggregator/aggregator.go")]);
    } finally {
      await debug.stop();
    }
  } finally {
    fs.rmSync(source, { recursive: true, force: true });
    if (builtImages.size > 0) spawnSync("docker", ["rmi", "-f", ...builtImages]);
  }
}, 900_000);
