/**
 * Everyday comfort on a real cluster: cluster.reset() (registered steps, containers brought back,
 * sink emptied, one leader per shard set), followLogs() across a kill and restart, `m3agg logs
 * --follow` and `m3agg doctor --json` as separate processes.
 */
import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { M3AggregatorCluster } from "../../src/cluster/start";
import type { StartedM3AggregatorCluster } from "../../src/cluster/started";
import { registerResetStep } from "../../src/cluster/reset";
import type { LogLine } from "../../src/util/log-render";
import { M3IngestClient } from "../../src/ingest/client";
import { uniqueClusterId } from "./helpers";
import { poll } from "../../src/util/poll";

const main = path.resolve(__dirname, "../../src/cli/main.ts");
let cluster: StartedM3AggregatorCluster;

beforeAll(async () => {
  cluster = await M3AggregatorCluster.start({ nodes: 4, rf: 2, backend: "sink", tls: false, clusterId: uniqueClusterId("comfort") });
}, 240_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

test("reset() runs the registered steps, brings back a killed and a paused node, empties the sink and waits for leaders", async () => {
  const lines: LogLine[] = [];
  const follower = await cluster.followLogs({ onLine: (l) => lines.push(l) });
  try {
    // Something in the sink: a counter, flushed by the leader of its shard set at the 10 s boundary.
    const client = await M3IngestClient.connect(cluster);
    const id = `comfort.reset.${Date.now()}`;
    await client.counter(id, 7n);
    await client.close();
    const sink = cluster.getSink();
    await sink.waitFor((points) => points.find((p) => p.id === id), { timeoutMs: 40_000, what: id });
    const inSink = sink.datapoints().length;

    const killed = cluster.nodes[0]!;
    const paused = cluster.nodes[3]!;
    await killed.kill();
    await paused.pause();
    expect(await killed.state()).toBe("exited");
    expect(await paused.state()).toBe("paused");

    const calls: string[] = [];
    const unregister = registerResetStep("test: heal faults", async (c) => { calls.push(c.getClusterId()); });
    let report;
    try {
      report = await cluster.reset({ timeoutMs: 90_000 });
    } finally {
      unregister();
    }
    expect(calls).toEqual([cluster.getClusterId()]);
    expect(report.steps).toContain("test: heal faults");
    expect(report.restored).toEqual([`${killed.id}: exited → running`, `${paused.id}: paused → running`]);
    expect(report.sinkCleared).toBe(inSink);
    expect(sink.datapoints()).toHaveLength(0);
    for (const node of cluster.nodes) expect(await node.state()).toBe("running");
    // One leader and a verified follower per shard set, read from each node's /status.
    const election = await cluster.election();
    expect(election).toHaveLength(2);
    for (const set of election) {
      expect(set.members.filter((m) => m.electionState === "leader")).toHaveLength(1);
      expect(set.members.filter((m) => m.electionState === "follower")).toHaveLength(1);
    }

    // followLogs saw every container, and the killed node's second start (it follows a restart).
    // reset() waits for /status, not for this process to have read the restarted node's output:
    // the line may still be on its way, so wait for it.
    const opened = await poll(() => {
      const found = lines.filter((l) => l.component === killed.id && l.raw.includes("election manager opened successfully"));
      return found.length >= 2 ? found : undefined;
    }, { timeoutMs: 20_000, what: `${killed.id}'s second "election manager opened successfully", followed` });
    expect(new Set(lines.map((l) => l.component))).toEqual(new Set(["etcd", "m3coordinator", ...cluster.nodes.map((n) => n.id)]));
    const rendered = opened[0]!;
    expect(rendered.text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO +election manager opened successfully/);
  } finally {
    await follower.stop();
  }
}, 240_000);

test("m3agg logs --follow prints every container live, prefixed; --raw keeps m3's JSON", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", main, "logs", "--follow", "--tail", "5", "--cluster", cluster.getClusterId()], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  try {
    const deadline = Date.now() + 30_000;
    while (!cluster.nodes.every((n) => out.includes(`${n.id} | `)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // A line printed after the follow began: the resign of a leader logs on both members.
    const leader = (await cluster.leaders()).get(1)!;
    const before = out.length;
    await cluster.node(leader).api.resign();
    while (!out.slice(before).includes(`${leader}`) && Date.now() < deadline + 30_000) await new Promise((r) => setTimeout(r, 100));
  } finally {
    child.kill("SIGINT");
  }
  expect(await exited).toBe(0);
  for (const name of ["etcd", "m3coordinator", ...cluster.nodes.map((n) => n.id)]) expect(out).toMatch(new RegExp(`^${name} +\\| `, "m"));
  expect(out).not.toMatch(/^m3aggregator\d+ +\| \{"level"/m); // rendered, not raw JSON
  await cluster.waitForReady({ timeoutMs: 60_000 });

  const raw = spawnSync(process.execPath, ["--import", "tsx", main, "logs", "m3aggregator01", "--raw", "--tail", "3", "--cluster", cluster.getClusterId()], { encoding: "utf8", timeout: 60_000 });
  expect(raw.status).toBe(0);
  const rawLines = raw.stdout.trim().split("\n");
  expect(rawLines).toHaveLength(3);
  for (const line of rawLines) expect(() => JSON.parse(line)).not.toThrow();
}, 180_000);

test("m3agg doctor --json: the engine, host networking both ways and the freezer work here; exit code follows the checks", () => {
  const result = spawnSync(process.execPath, ["--import", "tsx", main, "doctor", "--json"], { encoding: "utf8", timeout: 120_000 });
  const report = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ id: string; status: string; detail: string; fix?: string }> };
  const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
  for (const id of ["node", "docker.engine", "docker.host-network", "docker.freezer", "docker.bind-mount", "docker.container-to-host", "ports.pool"]) {
    expect({ id, status: byId[id]?.status }).toEqual({ id, status: "ok" });
  }
  expect(byId["docker.engine"]!.detail).toContain("platform linux/");
  expect(byId["images.v1.6.0"]!.detail).toContain("m3agg-local/m3aggregator:v1.6.0");
  for (const c of report.checks.filter((c) => c.status !== "ok")) expect(c.fix).toBeDefined();
  expect(result.status).toBe(report.checks.some((c) => c.status === "fail") ? 1 : 0);
  expect(report.ok).toBe(result.status === 0);
}, 180_000);

test("reset() on a cluster with faults: the Toxiproxy links are healed first, then leaders again", async () => {
  const faulty = await M3AggregatorCluster.start({ nodes: 2, rf: 2, tls: false, faults: true, electionTtlSeconds: 3, clusterId: uniqueClusterId("comfort-faults") });
  try {
    await faulty.isolate(0);
    expect(faulty.getFaultLog().map((f) => f.action).at(-1)).toBe("isolate");
    const before = faulty.getFaultLog().length;
    const report = await faulty.reset({ timeoutMs: 90_000 });
    expect(report.steps[0]).toBe("heal faults");
    expect(faulty.getFaultLog().slice(before).map((f) => f.action)).toEqual(["heal-all"]);
    const [set] = await faulty.election();
    expect(set!.members.map((m) => m.electionState).sort()).toEqual(["follower", "leader"]);
  } finally {
    await faulty.stop();
  }
}, 240_000);
