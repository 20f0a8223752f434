/**
 * Multi-engine layer: real m3 across two Docker engines forming a Swarm. Two dockerds run in two
 * network namespaces joined by a veth (scripts/swarm-engines.sh, created and removed here; addresses
 * exist only inside them; this process dials 127.0.0.1 only, through the engines' relays). A 4x2
 * cluster of the named network model with the default TLS (permissive, mTLS; the certificate names
 * the aggregators' service): nodes on both engines, DNS names in the placement, ingest (over TLS) and
 * sink exact, the common handle's contract (handle-contract.ts, also run on loopback), a bounded
 * runLoad through the dial map, a leader killed on one engine and replaced by its replica on the
 * other, stop() leaving nothing on either engine, images copied only onto the engine that lacked one
 * (Docker's own image "load" events), and the CLI: up --target swarm --detach (a second start that
 * copies nothing), status, down, and up in the foreground until SIGINT. Needs root (network
 * namespaces) and the local images.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runLoad } from "../../src/load/run";
import { checkCommonHandle } from "./handle-contract";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { M3IngestClient } from "../../src/ingest/client";
import type { StartedSwarmCluster } from "../../src/cluster/swarm";
import { dockerOn, stackLeftovers } from "../../src/cluster/swarm";
import { poll } from "../../src/util/poll";
import { versionProfile, defaultM3Version } from "../../src/model/versions";
import type { AggregatedDatapoint } from "../../src/sink/codec";

const SCRIPT = path.resolve(__dirname, "../../scripts/swarm-engines.sh");
const id = Math.random().toString(36).slice(2, 8).replace(/[^a-z0-9]/g, "x");
const run = Math.random().toString(36).slice(2, 8);
const clusterId = `swarm-${run}`;
const sumOf = (points: AggregatedDatapoint[], metric: string) => points.filter((p) => p.id === metric).reduce((s, p) => s + p.value, 0);

interface Engines { engines: Array<{ host: string; address: string; relay: string }>; sinkSocket: string }
let engines: Engines;
let cluster: StartedSwarmCluster | undefined;
let images: string[];
const etcdImage = versionProfile(defaultM3Version()).localImages.etcd;
const main = path.resolve(__dirname, "../../src/cli/main.ts");
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-swarm-cli-"));

/** The images an engine loaded between two Unix times (seconds.nanoseconds), from its own event stream (not from our handle). */
async function imageLoads(host: string, since: string, until: string): Promise<string[]> {
  const out = await dockerOn(host, ["events", "--since", since, "--until", until, "--filter", "type=image", "--filter", "event=load", "--format", "{{.Actor.ID}}"]);
  return out.trim().split("\n").filter(Boolean);
}
// Millisecond precision: the engines script loaded the same images moments before the first test.
const unixNow = (plusMs = 0) => ((Date.now() + plusMs) / 1000).toFixed(3);

function m3agg(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", main, ...args], {
    encoding: "utf8", timeout: 240_000, env: { ...process.env, M3AGG_STATE_DIR: stateDir, M3AGG_SKIP_BUILD: "1" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const script = (...args: string[]) => execFileSync("bash", [SCRIPT, ...args], { env: { ...process.env, OWNER_PID: String(process.pid) }, stdio: ["ignore", "pipe", "inherit"] }).toString();

beforeAll(() => {
  script("sweep"); // engines of test processes that died
  images = Object.entries(versionProfile(defaultM3Version()).localImages).filter(([k]) => k !== "m3aggregatorDebug").map(([, v]) => v);
  engines = JSON.parse(script("up", id, ...images).trim().split("\n").pop() as string) as Engines;
}, 180_000);

afterAll(async () => {
  try {
    await cluster?.stop();
  } finally {
    script("down", id); // also whatever a failed CLI test left deployed
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  // The namespaces, their veth and the engines are gone.
  expect(execFileSync("ip", ["netns", "list"]).toString()).not.toContain(`m3s-${id}-`);
}, 180_000);

describe("multi-engine: a 4x2 cluster across two Swarm engines", () => {
  test("an engine that does not answer fails the start at once, naming it, and nothing is deployed", async () => {
    const missing = `unix:///run/m3agg-swarm/${id}/none.sock`;
    const t0 = Date.now();
    await expect(M3AggregatorCluster.start({ nodes: 2, rf: 2, tls: false, clusterId: `bad-${run}`, target: { swarm: { engines: [engines.engines[0]?.host as string, missing] } } }))
      .rejects.toThrow(new RegExp(`cluster bad-${run} on swarm .*docker -H ${missing} info`));
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await dockerOn(engines.engines[0]?.host as string, ["service", "ls", "-q"])).trim()).toBe("");
  }, 60_000);

  test("starts with nodes on both engines, each shard set spanning both, DNS names in the placement; the image engine 1 lacked is copied there only", async () => {
    // Engine 1 loses the etcd image: the start must copy it there (no registry), and only there.
    await dockerOn(engines.engines[1]?.host as string, ["image", "rm", etcdImage]);
    const since = unixNow();
    cluster = await M3AggregatorCluster.start({
      nodes: 4, rf: 2, backend: "sink", clusterId, // TLS: the default (permissive, mTLS)
      target: { swarm: { engines: engines.engines.map((e) => e.host), relays: { engines: engines.engines.map((e) => e.relay), sink: engines.sinkSocket } } },
    });
    // Where the tasks run, asked from each engine (not from the handle).
    const onEngine = await Promise.all(engines.engines.map(async (e) =>
      (await dockerOn(e.host, ["ps", "--filter", `label=com.docker.stack.namespace=${clusterId}`, "--format", "{{.Label \"com.docker.swarm.service.name\"}}"])).trim().split("\n").filter(Boolean)));
    const engineOfNode = (node: string) => onEngine.findIndex((names) => names.includes(`${clusterId}_${node}`));
    expect(onEngine[0]?.filter((n) => n.includes("m3aggregator"))).toHaveLength(2);
    expect(onEngine[1]?.filter((n) => n.includes("m3aggregator"))).toHaveLength(2);
    const placement = await cluster.placement();
    expect(Object.values(placement.instances).map((i) => i.endpoint).sort()).toEqual(["m3aggregator-0:6003", "m3aggregator-1:6003", "m3aggregator-2:6003", "m3aggregator-3:6003"]);
    for (const members of (await cluster.shardSets()).values()) {
      expect(new Set(members.map(engineOfNode))).toEqual(new Set([0, 1]));
    }
    for (const n of cluster.nodes) expect(n.engine).toBe(engineOfNode(n.id));
    // The engines' own event streams: one image load on engine 1, none on engine 0.
    const until = unixNow(1_000);
    const etcdId = (await dockerOn(engines.engines[1]?.host as string, ["image", "inspect", "-f", "{{.Id}}", etcdImage])).trim();
    expect(await imageLoads(engines.engines[0]?.host as string, since, until)).toEqual([]);
    expect((await imageLoads(engines.engines[1]?.host as string, since, until)).map((i) => etcdId.endsWith(i) || i === etcdImage || etcdId.includes(i))).toEqual([true]);
    expect(cluster.loadedImages).toEqual({ [engines.engines[0]?.host as string]: [], [engines.engines[1]?.host as string]: [etcdImage] });
    process.stderr.write(`[swarm] 4x2 on two engines: deploy -> ready ${cluster.startupTimings.applyToReadyMs} ms, start ${cluster.startupTimings.total} ms\n`);
  }, 240_000);

  test("ingest (TLS, the server verified by its service name) and sink are exact: 2,000 increments over 20 ids through the dial map", async () => {
    const c = cluster as StartedSwarmCluster;
    expect(c.tls?.mode).toBe("permissive");
    const ids = Array.from({ length: 20 }, (_, i) => `swarm.${run}.${i}`);
    const client = await M3IngestClient.connect(c);
    expect(client.usesTls()).toBe(true);
    for (let round = 0; round < 100; round++) for (const metric of ids) await client.counter(metric, 1);
    await client.close();
    const total = () => ids.reduce((s, metric) => s + c.getSink().sum(metric), 0);
    await c.getSink().waitFor(() => (total() >= 2_000 ? true : undefined), { timeoutMs: 60_000, what: "2000 increments" });
    await new Promise((r) => setTimeout(r, 3_000)); // nothing more arrives later (no double counting)
    expect(ids.map((metric) => c.getSink().sum(metric))).toEqual(ids.map(() => 100));
  }, 120_000);

  test("the common handle's contract holds on the swarm (the same function as on loopback)", async () => {
    await checkCommonHandle(cluster as StartedSwarmCluster, { clusterId, nodes: 4, rf: 2, m3Version: defaultM3Version(), metricPrefix: `contract.${run}` });
  }, 180_000);

  test("runLoad through the dial map: 20,000 increments across both engines, the sink exact against what was sent", async () => {
    const c = cluster as StartedSwarmCluster;
    const added = async () => Promise.all(c.nodes.map(async (n) => (await n.metrics()).sum("m3aggregator_aggregator_addUntimed_success")));
    const before = await added();
    const prefix = `swarmload.${run}`;
    const report = await runLoad(c, { count: 20_000, rate: 4_000, ids: 500, mix: { counter: 1 }, idPrefix: prefix, settleTimeoutSeconds: 90 });
    // The sink's own datapoints against the 20,000 increments asked for (not the harness's or the client's counts).
    const inSink = c.getSink().datapoints().filter((p) => p.id.startsWith(`${prefix}.counter.`));
    expect(inSink.reduce((s, p) => s + p.value, 0)).toBe(20_000);
    expect(new Set(inSink.map((p) => p.id)).size).toBe(500);
    expect(report.sent).toBe(20_000);
    expect({ ok: report.ok, problems: report.problems }).toEqual({ ok: true, problems: [] });
    // m3's own counters: every node (so both engines) added metrics, every increment reached rf = 2 replicas.
    const after = await added();
    const deltas = after.map((a, i) => a - (before[i] as number));
    for (const [i, n] of c.nodes.entries()) expect(`${n.id} on engine ${n.engine}: ${(deltas[i] as number) > 0}`).toBe(`${n.id} on engine ${n.engine}: true`);
    expect(deltas.reduce((s, d) => s + d, 0)).toBeGreaterThanOrEqual(2 * 20_000);
    expect(report.aggregators.every((a) => a.error === undefined)).toBe(true);
  }, 240_000);

  test("a leader killed on one engine is replaced by its replica on the other; ingest stays exact", async () => {
    const c = cluster as StartedSwarmCluster;
    const [setId, leader] = [...(await c.leaders()).entries()][0] as [number, string];
    const replica = ((await c.shardSets()).get(setId) as string[]).find((m) => m !== leader) as string;
    expect(c.node(replica).engine).not.toBe(c.node(leader).engine);
    await c.killNode(leader);
    expect(await c.waitForLeader(setId, { not: leader, timeoutMs: 60_000 })).toBe(replica);
    await c.waitForReady({ timeoutMs: 120_000 }); // Swarm restarted the killed task: it follows now
    const metric = `swarm.after.${run}`;
    const client = await M3IngestClient.connect(c);
    for (let i = 0; i < 500; i++) await client.counter(metric, 1);
    await client.close();
    await c.getSink().waitFor((points) => (sumOf(points, metric) >= 500 ? true : undefined), { timeoutMs: 60_000, what: `${metric} to reach 500` });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(c.getSink().sum(metric)).toBe(500);
  }, 240_000);

  test("stop() leaves nothing on either engine", async () => {
    const c = cluster as StartedSwarmCluster;
    await c.stop();
    cluster = undefined;
    expect(await c.leftovers()).toEqual([]);
    for (const e of engines.engines) {
      expect((await dockerOn(e.host, ["ps", "-aq"])).trim()).toBe("");
      // Swarm's own "ingress" network stays (it is the engine's, unused: no port is published through the mesh).
      const overlays = (await dockerOn(e.host, ["network", "ls", "--filter", "driver=overlay", "--format", "{{.Name}}"])).trim().split("\n").filter(Boolean);
      expect(overlays.filter((n) => n !== "ingress")).toEqual([]);
    }
    expect((await dockerOn(engines.engines[0]?.host as string, ["config", "ls", "-q"])).trim()).toBe("");
  }, 120_000);
  test("m3agg up --target swarm --detach, status, down: a second start copies no image", async () => {
    const hosts = engines.engines.map((e) => e.host);
    const since = unixNow();
    const cliId = `cli-${run}`;
    const up = m3agg(["up", "--target", "swarm", "--swarm-engines", id, "--nodes", "2", "--rf", "2", "--tls", "off", "--cluster-id", cliId, "--detach", "--json"]);
    expect({ status: up.status, stderr: up.status === 0 ? "" : up.stderr }).toEqual({ status: 0, stderr: "" });
    const started = JSON.parse(up.stdout.trim().split("\n").pop() as string);
    expect(started.clusterId).toBe(cliId);
    expect(started.swarm.engines).toEqual(hosts);
    expect(started.loadedImages).toEqual(Object.fromEntries(hosts.map((h) => [h, []])));
    // Docker's event streams agree: no image was loaded onto either engine by the second start.
    const until = unixNow(1_000);
    for (const host of hosts) expect(await imageLoads(host, since, until)).toEqual([]);
    // Deployed, found by status through the state file (no flags), one leader.
    const status = m3agg(["status", "--json"]);
    expect({ status: status.status, stderr: status.status === 0 ? "" : status.stderr }).toEqual({ status: 0, stderr: "" });
    const report = JSON.parse(status.stdout);
    expect(report.clusterId).toBe(cliId);
    expect(report.shardSets).toHaveLength(1);
    expect(report.shardSets[0].members.map((m: { id: string }) => m.id).sort()).toEqual(["m3aggregator-0", "m3aggregator-1"]);
    expect(["m3aggregator-0", "m3aggregator-1"]).toContain(report.shardSets[0].leader);
    expect(report.nodes.map((n: { engine: number }) => n.engine).sort()).toEqual([0, 1]);
    expect(Object.values(report.healthy)).toEqual([true, true]);
    // The services run on the engines (asked from the manager, not the CLI).
    expect((await dockerOn(hosts[0] as string, ["service", "ls", "--filter", `label=com.docker.stack.namespace=${cliId}`, "--format", "{{.Name}}"])).trim().split("\n").sort())
      .toEqual([`${cliId}_etcd`, `${cliId}_m3aggregator-0`, `${cliId}_m3aggregator-1`, `${cliId}_m3coordinator`]);
    // A cluster the swarm does not run: exit 3, the deployed ones named.
    const missing = m3agg(["status", "--swarm-engines", id, "--cluster", "nope"]);
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain(`cluster nope is not deployed on the swarm of ${hosts[0]} (deployed: ${cliId})`);
    const down = m3agg(["down", "--json"]);
    expect({ status: down.status, stderr: down.status === 0 ? "" : down.stderr }).toEqual({ status: 0, stderr: "" });
    expect(JSON.parse(down.stdout).removed).toEqual([cliId]);
    for (const host of hosts) expect((await dockerOn(host, ["ps", "-aq", "--filter", `label=com.docker.stack.namespace=${cliId}`])).trim()).toBe("");
    expect((await dockerOn(hosts[0] as string, ["service", "ls", "-q"])).trim()).toBe("");
    expect(fs.existsSync(path.join(stateDir, "state.json"))).toBe(false);
  }, 300_000);
  test("m3agg up --target swarm in the foreground: SIGINT removes the stack from both engines and exits 0", async () => {
    const hosts = engines.engines.map((e) => e.host);
    const fgId = `fg-${run}`;
    const child = spawn(process.execPath, ["--import", "tsx", main, "up", "--target", "swarm", "--swarm-engines", id, "--nodes", "2", "--rf", "2", "--tls", "off", "--cluster-id", fgId], {
      env: { ...process.env, M3AGG_STATE_DIR: stateDir, M3AGG_SKIP_BUILD: "1" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await poll(() => (stdout.includes("running; Ctrl-C removes it") ? true : undefined), { timeoutMs: 120_000, what: "up to print that it runs", onTimeout: () => new Error(`up did not come up: ${stderr.slice(-2000)}`) });
      expect(stdout).toContain(`cluster ${fgId} ready`);
      expect((await dockerOn(hosts[0] as string, ["service", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${fgId}`])).trim().split("\n")).toHaveLength(4);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(stderr).toMatch(new RegExp(`SIGINT: removing cluster ${fgId} .*\\n.*removed in \\d+ ms`, "s"));
      expect(await stackLeftovers(fgId, hosts)).toEqual([]);
      expect(fs.existsSync(path.join(stateDir, "state.json"))).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 240_000);
});
