/** The CLI as a user runs it: separate processes, exit codes, JSON output, against a real cluster. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clusterContainers } from "./helpers";

const main = path.resolve(__dirname, "../../src/cli/main.ts");
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-cli-"));

function m3agg(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", main, ...args], {
    encoding: "utf8", input, timeout: 120_000, env: { ...process.env, M3AGG_STATE_DIR: stateDir },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("m3agg", () => {
  test("bad flags and bad options are usage errors: exit 2 with the usage text", () => {
    for (const args of [["up", "--nodes", "3"], ["up", "--verbose"], ["up", "--rf", "x"], ["frobnicate"], ["status", "--all"]]) {
      const result = m3agg(args);
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr).toContain("usage: m3agg <command>");
    }
    expect(m3agg(["up", "--nodes", "3"]).stderr).toContain("invalid option nodes=3: must be even");
  });

  test("up --detach, status --json, connectivity, send (raw and real metrics), logs, down", async () => {
    const up = m3agg(["up", "--nodes", "2", "--rf", "2", "--election-ttl", "9", "--backend", "logging", "--detach", "--json"]);
    expect(up.status).toBe(0);
    const started = JSON.parse(up.stdout.trim().split("\n").pop()!);
    expect(started.nodes).toHaveLength(2);
    expect(fs.existsSync(path.join(stateDir, "state.json"))).toBe(true);
    try {
      const status = m3agg(["status", "--json"]);
      expect(status.status).toBe(0);
      const report = JSON.parse(status.stdout);
      expect(report.clusterId).toBe(started.clusterId);
      expect(report.shardSets).toHaveLength(1);
      expect(report.shardSets[0].leader).toMatch(/^m3aggregator0[12]$/);
      expect(Object.values(report.healthy)).toEqual([true, true]);
      expect(report.placement).toEqual({ numShards: 64, replicaFactor: 2, instances: 2 });

      const connectivity = m3agg(["connectivity", "--json"]);
      expect(connectivity.status).toBe(0);
      expect(JSON.parse(connectivity.stdout).checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok])).toEqual([
        ["host -> nodes", true], ["container -> nodes", true], ["placement endpoints", true], ["metric send", true],
      ]);

      const send = m3agg(["send", "--node", "2", "--json"], "metric.test 123.45 1700000000\n");
      expect(send.status).toBe(0);
      expect(JSON.parse(send.stdout)).toMatchObject({ node: "m3aggregator02", bytes: 30 });

      // The text line is not a valid frame: the node says so in its log.
      const logs = m3agg(["logs", "m3aggregator02"]);
      expect(logs.status).toBe(0);
      expect(logs.stdout).toContain("decode error");

      // A real counter, routed to both replicas; the leader's logging backend prints it when the 10 s window flushes.
      const metric = m3agg(["send", "--counter", "cli.requests=5", "--json"]);
      expect(metric.status).toBe(0);
      expect(JSON.parse(metric.stdout).sent[0].replicas.sort()).toEqual(["m3aggregator01", "m3aggregator02"]);
      expect(JSON.parse(metric.stdout).delivery).toMatchObject({ queued: 2, written: 2, lost: 0, dropped: 0 }); // one frame per replica
      let flushed = "";
      for (let i = 0; i < 30 && !flushed.includes('"metric":"cli.requests"'); i++) {
        await new Promise((r) => setTimeout(r, 1_000));
        flushed = m3agg(["logs", "--raw"]).stdout; // m3's own JSON lines
      }
      expect(flushed).toMatch(/aggregated metric with policy.*"metric":"cli.requests","policy":"10s:2d"/);
      // Without --raw the same line is rendered as `time level msg key=value`.
      expect(m3agg(["logs"]).stdout).toMatch(/INFO {2}aggregated metric with policy metric=cli\.requests policy=10s:2d/);
    } finally {
      const down = m3agg(["down", "--json"]);
      expect(down.status).toBe(0);
      expect(JSON.parse(down.stdout)).toEqual({ removed: [started.clusterId] });
    }
    return clusterContainers(started.clusterId).then((left) => {
      expect(left).toEqual([]);
      // The removed cluster is gone by name (a bare `status` would find any other cluster a parallel test runs).
      expect(m3agg(["status", "--cluster", started.clusterId]).status).toBe(3);
      expect(fs.existsSync(path.join(stateDir, "state.json"))).toBe(false);
    });
  }, 240_000);
});
