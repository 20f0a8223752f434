/**
 * The common handle's contract, written once against `StartedCluster` and run against every target
 * (handle-contract.test.ts: a loopback cluster; swarm.test.ts: the two-engine Swarm). Each check asks
 * something other than the handle where it can: the placement's own endpoints, a raw TCP connect to
 * each dial address, a plain HTTP GET of each node's /health, the files writeLogs() left, and the
 * sink's totals against the number of increments this function sent.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { StartedCluster } from "../../src/cluster/handle";
import { M3IngestClient } from "../../src/ingest/client";
import type { M3Version } from "../../src/model/versions";
import { poll } from "../../src/util/poll";

export interface ContractExpectations {
  clusterId: string;
  nodes: number;
  rf: number;
  m3Version: M3Version;
  /** Prefix of the metric ids this check sends (unique per run). */
  metricPrefix: string;
}

/** Resolves once `address` (host:port) accepts a TCP connection; rejects naming it otherwise. */
function connects(address: string, timeoutMs = 5_000): Promise<void> {
  const at = address.lastIndexOf(":");
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`${address}: no TCP connection within ${timeoutMs} ms`)); }, timeoutMs);
    socket.once("connect", () => { clearTimeout(timer); socket.destroy(); resolve(); });
    socket.once("error", (error) => { clearTimeout(timer); reject(new Error(`${address}: ${error.message}`)); });
  });
}

/** Runs the contract's checks against `cluster` (a started, ready cluster with backend "sink"). */
export async function checkCommonHandle(cluster: StartedCluster, expected: ContractExpectations): Promise<void> {
  // Identity.
  expect(cluster.getClusterId()).toBe(expected.clusterId);
  expect(cluster.getM3Version()).toBe(expected.m3Version);

  // Nodes: the placement's instances, in instance-id order, by index and by id; unknown ones named.
  const ids = cluster.nodes.map((n) => n.id);
  expect(ids).toHaveLength(expected.nodes);
  expect(new Set(ids).size).toBe(expected.nodes);
  expect(ids).toEqual([...ids].sort((a, b) => a.localeCompare(b, "en", { numeric: true })));
  cluster.nodes.forEach((n, i) => {
    expect(cluster.node(i)).toBe(n);
    expect(cluster.node(n.id)).toBe(n);
  });
  for (const bad of [expected.nodes, -1, "no-such-node"]) {
    expect(() => cluster.node(bad)).toThrow(new RegExp(`no node ${JSON.stringify(bad)} in cluster ${expected.clusterId} .*${ids[0]}.*${ids.at(-1)}`));
  }

  // The placement names exactly these nodes at their endpoints; shard sets of rf members covering all.
  const placement = await cluster.placement();
  expect(placement.replicaFactor).toBe(expected.rf);
  expect(Object.keys(placement.instances).sort()).toEqual([...ids].sort());
  for (const n of cluster.nodes) expect(n.getTcpEndpoint()).toBe(placement.instances[n.id]?.endpoint);
  const sets = await cluster.shardSets();
  expect(sets.size).toBe(expected.nodes / expected.rf);
  for (const members of sets.values()) expect(members).toHaveLength(expected.rf);
  expect([...sets.values()].flat().sort()).toEqual([...ids].sort());

  // The dial map: each placement endpoint maps to the node's dial address, which takes a TCP
  // connection; an endpoint it does not know comes back as it is.
  for (const n of cluster.nodes) {
    expect(cluster.dialAddress(n.getTcpEndpoint())).toBe(n.getDialAddress());
    await connects(n.getDialAddress());
    const health = await fetch(`${n.getHttpUrl()}/health`);
    expect(`${n.id} ${health.status}`).toBe(`${n.id} 200`);
  }
  expect(cluster.dialAddress("unknown.invalid:6003")).toBe("unknown.invalid:6003");

  // Election: ready, one leader per shard set among its members, the same from every way of asking.
  const ready = await cluster.waitForReady({ timeoutMs: 60_000 });
  expect(ready.map((s) => s.shardSetId).sort()).toEqual([...sets.keys()].sort());
  const leaders = await cluster.leaders();
  for (const [setId, members] of sets) {
    const leader = leaders.get(setId);
    expect(members).toContain(leader);
    expect(await cluster.waitForLeader(setId, { timeoutMs: 30_000 })).toBe(leader);
    const election = (await cluster.election()).find((s) => s.shardSetId === setId);
    expect(election?.members.filter((m) => m.electionState === "leader").map((m) => m.id)).toEqual([leader]);
  }

  // Ingest through the handle (the client gets the dial map and TLS from it) and the sink exact:
  // 20 ids x 50 increments sent here, so 1,000 in total and 50 per id, nothing twice.
  const metrics = Array.from({ length: 20 }, (_, i) => `${expected.metricPrefix}.${i}`);
  const client = await M3IngestClient.connect(cluster);
  for (let round = 0; round < 50; round++) for (const id of metrics) await client.counter(id, 1);
  await client.close();
  const sink = cluster.getSink();
  const total = () => metrics.reduce((s, id) => s + sink.sum(id), 0);
  await poll(() => (total() >= 1_000 ? true : undefined), { timeoutMs: 60_000, what: `1,000 increments of ${expected.metricPrefix}.* in the sink`, onTimeout: () => new Error(`the sink has ${total()} of 1,000 increments of ${expected.metricPrefix}.*`) });
  expect(metrics.map((id) => sink.sum(id))).toEqual(metrics.map(() => 50));
  expect(sink.stats().conflicts).toBe(0);

  // Logs: every component printed something; an unknown one is named with the known ones; writeLogs
  // leaves one non-empty file per component.
  const components = ["etcd", "m3coordinator", ...ids];
  for (const c of components) expect(`${c}: ${(await cluster.logs(c)).length > 0}`).toBe(`${c}: true`);
  expect((await cluster.logs("coordinator")).length).toBeGreaterThan(0);
  await expect(cluster.logs("nope")).rejects.toThrow(new RegExp(`no component "nope" in cluster ${expected.clusterId} \\(components: .*m3coordinator.*${ids[0]}`));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-contract-logs-"));
  try {
    const folder = await cluster.writeLogs(dir);
    expect(folder).toBe(path.join(dir, expected.clusterId));
    for (const c of components) expect(`${c}: ${fs.statSync(path.join(folder, `${c}.log`)).size > 1}`).toBe(`${c}: true`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
