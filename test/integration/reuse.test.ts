/** Reuse mode and the shared-cluster (globalSetup) recipe. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { containersWithLabel } from "../../src/docker/client";
import { LABEL_CLUSTER } from "../../src/model/labels";
import { clusterContainers } from "./helpers";

const containerIds = async (clusterId: string) => (await containersWithLabel(LABEL_CLUSTER, clusterId)).map((c) => c.id).sort();

test("reuse: stop() keeps the cluster; the next start with the same options attaches to it; stop({remove}) removes it", async () => {
  const options = { nodes: 2, rf: 2, electionTtlSeconds: 7, reuse: true };
  const first = await M3AggregatorCluster.start(options);
  try {
    expect(first.getId()).toMatch(/^reuse-[0-9a-f]{12}$/);
    const ids = await containerIds(first.getId());
    expect(ids).toHaveLength(4);
    await first.stop();
    expect(await containerIds(first.getId())).toEqual(ids); // still running

    const second = await M3AggregatorCluster.start(options);
    expect(second.attached).toBe(true);
    expect(second.getId()).toBe(first.getId());
    expect(await containerIds(second.getId())).toEqual(ids); // the same containers
    expect(second.nodes.map((n) => [n.id, n.getTcpPort(), n.getHttpPort()])).toEqual(first.nodes.map((n) => [n.id, n.getTcpPort(), n.getHttpPort()]));
    expect(second.options.electionTtlSeconds).toBe(7);
    expect(await second.node(0).api.isHealthy()).toBe(true);
    expect(second.node(0).logLines().join("\n")).toContain("\"level\""); // logs from before the attach

    // Different defining options: a different cluster id (so a different cluster).
    expect(new M3AggregatorCluster({ ...options, electionTtlSeconds: 8 }).options.clusterId).not.toBe(first.getId());
  } finally {
    await first.stop({ remove: true });
  }
  expect(await clusterContainers(first.getId())).toEqual([]);
}, 120_000);

test("shared cluster: globalSetup starts one cluster, two test files (two workers) attach to it, globalTeardown removes it", () => {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-shared-")), "report.jsonl");
  const jest = path.resolve(__dirname, "../../node_modules/.bin/jest");
  const result = spawnSync(jest, ["-c", path.resolve(__dirname, "../shared/jest.config.ts")], {
    encoding: "utf8", timeout: 120_000, env: { ...process.env, M3AGG_SHARED_REPORT: report },
  });
  expect(result.status).toBe(0);
  const lines = fs.readFileSync(report, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.map((l) => l.file).sort()).toEqual(["a", "b"]);
  expect(new Set(lines.map((l) => l.clusterId)).size).toBe(1);
  expect(new Set(lines.map((l) => l.etcd)).size).toBe(1);
  return clusterContainers(lines[0].clusterId).then((left) => expect(left).toEqual([]));
}, 150_000);
