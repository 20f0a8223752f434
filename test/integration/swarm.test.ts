/**
 * Multi-engine layer: real m3 across two Docker engines forming a Swarm. Two dockerds run in two
 * network namespaces joined by a veth (scripts/swarm-engines.sh, created and removed here; addresses
 * exist only inside them; this process dials 127.0.0.1 only, through the engines' relays). A 4x2
 * cluster of the named network model with the default TLS (permissive, mTLS; the certificate names
 * the aggregators' service): nodes on both engines, DNS names in the placement, ingest (over TLS) and
 * sink exact, a leader killed on one engine and replaced by its replica on the other, and stop()
 * leaving nothing on either engine. Needs root (network namespaces) and the local images.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { M3IngestClient } from "../../src/ingest/client";
import type { StartedSwarmCluster } from "../../src/cluster/swarm";
import { dockerOn } from "../../src/cluster/swarm";
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

const script = (...args: string[]) => execFileSync("bash", [SCRIPT, ...args], { env: { ...process.env, OWNER_PID: String(process.pid) }, stdio: ["ignore", "pipe", "inherit"] }).toString();

beforeAll(() => {
  script("sweep"); // engines of test processes that died
  const images = Object.entries(versionProfile(defaultM3Version()).localImages).filter(([k]) => k !== "m3aggregatorDebug").map(([, v]) => v);
  engines = JSON.parse(script("up", id, ...images).trim().split("\n").pop() as string) as Engines;
}, 180_000);

afterAll(async () => {
  try {
    await cluster?.stop();
  } finally {
    script("down", id);
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

  test("starts with nodes on both engines, each shard set spanning both, DNS names in the placement", async () => {
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
});
