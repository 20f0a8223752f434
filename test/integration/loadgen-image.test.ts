/**
 * The load generator image (images/go/loadgen-<version>, run by `m3agg load --target kubernetes` as
 * a Job) for real, on this engine: a loopback cluster with the sink backend, the image run with
 * `docker run --network host` against the cluster's etcd (the placement's loopback endpoints are
 * reachable from the host network). The totals expected in the sink come from the parameters this
 * test gives (every id gets increments x value), never from the generator's report.
 */
import { execFile } from "node:child_process";
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { versionProfile } from "../../src/model/versions";
import { uniqueClusterId } from "./helpers";

const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2, backend: "sink", clusterId: uniqueClusterId("loadgen") });
const IMAGE = versionProfile("v1.6.0").localImages.loadgen;
const FLUSH_WAIT_MS = 60_000;
const run = Math.random().toString(36).slice(2, 8);

/** Runs the image to completion (bounded: the container is removed when the deadline passes). */
function runLoadgen(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const name = `m3agg-loadgen-test-${run}-${Math.random().toString(36).slice(2, 6)}`;
  return new Promise((resolve, reject) => {
    execFile("docker", ["run", "--rm", "--name", name, "--network", "host", IMAGE, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error !== null && (error as { killed?: boolean }).killed) {
        execFile("docker", ["rm", "-f", name], () => reject(new Error(`docker run ${IMAGE} ${args.join(" ")}: no exit within ${timeoutMs} ms (container ${name} removed); stderr: ${stderr.slice(-1000)}`)));
        return;
      }
      resolve({ code: error === null ? 0 : Number((error as { code?: number }).code ?? 1), stdout, stderr });
    });
  });
}

const etcdEndpoint = () => new URL(m3.cluster.getEtcdUrl()).host;

describe("the loadgen image against a real cluster", () => {
  test("40 ids x 25 increments of 3 at 500/s: every id sums to 75 in the sink, and the report line parses", async () => {
    const ids = 40, increments = 25, value = 3, rate = 500;
    const prefix = `lg.${run}`;
    const started = Date.now();
    const result = await runLoadgen([`-etcd=${etcdEndpoint()}`, `-ids=${ids}`, `-increments=${increments}`, `-value=${value}`, `-rate=${rate}`, `-id-prefix=${prefix}`], 120_000);
    const wall = Date.now() - started;
    expect({ code: result.code, stderrTail: result.code === 0 ? "" : result.stderr.slice(-2000) }).toEqual({ code: 0, stderrTail: "" });
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1); // stdout is the report only (logs go to stderr)
    const report = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(report).toMatchObject({ report: "m3agg-loadgen/v1", ok: true, ids, increments, value, idPrefix: prefix, errors: 0, phase: "done", sent: { counter: ids * increments } });
    // Paced: 1,000 metrics at 500/s take about 2 s of sending (the last one is due at 999/500 s).
    expect(report.sendMs as number).toBeGreaterThanOrEqual(Math.floor((ids * increments - 1) / rate * 1000) - 50);
    expect(report.sendMs as number).toBeLessThan(wall);

    const idList = Array.from({ length: ids }, (_, i) => `${prefix}.${i}`);
    const expected = increments * value;
    const sink = m3.cluster.getSink();
    await sink.waitFor(() => idList.every((id) => sink.sum(id) >= expected), { timeoutMs: FLUSH_WAIT_MS, what: `${ids} ids of ${prefix} to reach ${expected} each` });
    expect(idList.map((id) => [id, sink.sum(id)])).toEqual(idList.map((id) => [id, expected]));
    expect(sink.conflicts()).toEqual([]);
  }, 240_000);

  test("an etcd nobody listens on: exit 1 and a report naming the phase, within the placement wait", async () => {
    const result = await runLoadgen(["-etcd=127.0.0.1:1", "-ids=1", "-increments=1", "-init-timeout=3s"], 120_000);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout.trim().split("\n").pop() as string) as Record<string, unknown>;
    expect(report).toMatchObject({ ok: false, sent: { counter: 0 } });
    expect(String(report.firstError)).toMatch(/^(etcd client|aggregator client|init \(placement watch\)): /);
  }, 150_000);
});
