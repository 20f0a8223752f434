/**
 * The CLI commands other than `up`: each attaches to a running cluster by
 * its labels, does one thing, prints a table (or JSON) and returns an exit code.
 */
import { M3AggregatorCluster } from "../cluster/start";
import { M3IngestClient } from "../ingest/client";
import { containerLogLines } from "../docker/client";
import { sweepLocks } from "../util/file-lock";
import { sendRaw } from "../util/socket";
import { describeElection } from "../cluster/readiness";
import type { Command } from "./args";
import { runConnectivity } from "./connectivity";
import { formatTable, summarize, summarizeSwarm } from "./endpoints";
import { clearState, NoClusterError, readState, resolveTarget, runningClusters } from "./state";
import { attachSwarmCluster, removeSwarmStack, swarmClusters } from "../cluster/swarm";
import type { SwarmEngines, Target } from "./up-args";
import { formatLogLine, type LogLine } from "../util/log-render";
import { noColor } from "../model/environment";
import { formatShardStates } from "./scale";
import { summarizeShardStates } from "../m3/placement-change";

type Of<C extends Command["command"]> = Extract<Command, { command: C }>;
const print = (text: string): void => void process.stdout.write(`${text}\n`);

/**
 * The swarm a command acts on: the engines given (flags, env), else those of the state file when it
 * names a swarm cluster (and --cluster is that cluster or absent); undefined: this machine's engine.
 */
function swarmOf(target: Target): SwarmEngines | undefined {
  if (target.swarm !== undefined) return target.swarm;
  const state = readState();
  return state?.swarm !== undefined && (target.clusterId === undefined || target.clusterId === state.clusterId) ? state.swarm : undefined;
}

/** --cluster, else the state file's, else the only fixture cluster on the swarm. */
async function resolveSwarmTarget(target: Target, swarm: SwarmEngines): Promise<string> {
  const manager = swarm.engines[0] as string;
  const running = await swarmClusters(manager);
  const state = readState();
  const wanted = target.clusterId ?? (state?.swarm !== undefined ? state.clusterId : undefined);
  if (wanted !== undefined) {
    if (!running.includes(wanted)) throw new NoClusterError(`cluster ${wanted} is not deployed on the swarm of ${manager} (deployed: ${running.join(", ") || "none"})`);
    return wanted;
  }
  if (running.length === 1) return running[0] as string;
  throw new NoClusterError(running.length === 0
    ? `no fixture cluster is deployed on the swarm of ${manager} (start one with \`m3agg up --target swarm\`)`
    : `several clusters are deployed on the swarm of ${manager}, choose one with --cluster: ${running.join(", ")}`);
}

async function downSwarm(command: Of<"down">, swarm: SwarmEngines): Promise<number> {
  const ids = command.all ? await swarmClusters(swarm.engines[0] as string) : [await resolveSwarmTarget(command.target, swarm)];
  for (const id of ids) {
    await removeSwarmStack(id, swarm.engines);
    clearState(id);
  }
  print(command.json ? JSON.stringify({ removed: ids, swarm: swarm.engines }) : ids.length === 0 ? `no fixture cluster was deployed on the swarm of ${swarm.engines[0]}` : `removed ${ids.join(", ")} from the swarm of ${swarm.engines.join(", ")}`);
  return 0;
}

async function statusSwarm(command: Of<"status">, swarm: SwarmEngines): Promise<number> {
  const cluster = await attachSwarmCluster(await resolveSwarmTarget(command.target, swarm), { engines: swarm.engines, relays: swarm.relays?.engines });
  try {
    const [election, placement, health] = await Promise.all([
      cluster.election(),
      cluster.placement(),
      Promise.all(cluster.nodes.map(async (n) => [n.id, await n.api.isHealthy()] as const)),
    ]);
    const settled = election.every((s) => s.leader !== undefined);
    if (command.json) {
      print(JSON.stringify({
        ...summarizeSwarm(cluster, election, swarm.relays),
        healthy: Object.fromEntries(health),
        shardSets: election.map((s) => ({ shardSetId: s.shardSetId, leader: s.leader ?? null, members: s.members })),
        placement: { numShards: placement.numShards, replicaFactor: placement.replicaFactor, instances: Object.keys(placement.instances).length },
        shardStates: summarizeShardStates(placement),
      }));
    } else {
      print(formatTable(summarizeSwarm(cluster, election, swarm.relays)));
      print(`\nhealth: ${health.map(([id, ok]) => `${id}=${ok ? "OK" : "DOWN"}`).join(", ")}`);
      print(`placement: ${Object.keys(placement.instances).length} instances, ${placement.numShards} shards, rf ${placement.replicaFactor}`);
      print(describeElection(election));
      print(formatShardStates(placement).join("\n"));
    }
    return health.every(([, ok]) => ok) && settled ? 0 : 1;
  } finally {
    await cluster.release();
  }
}

export async function down(command: Of<"down">): Promise<number> {
  const swarm = swarmOf(command.target);
  if (swarm !== undefined) return downSwarm(command, swarm);
  // An id given by name is torn down even when no container of it runs any more: what a forced
  // exit left (port reservations, cluster folder) goes too.
  const ids = command.all ? await runningClusters() : [command.target.clusterId ?? await resolveTarget(command.target)];
  for (const id of ids) {
    await M3AggregatorCluster.remove(id);
    clearState(id);
  }
  sweepLocks(); // lock files of dead processes
  print(command.json ? JSON.stringify({ removed: ids }) : ids.length === 0 ? "no fixture cluster was running" : `removed ${ids.join(", ")}`);
  return 0;
}

export async function status(command: Of<"status">): Promise<number> {
  const swarm = swarmOf(command.target);
  if (swarm !== undefined) return statusSwarm(command, swarm);
  const cluster = await M3AggregatorCluster.attach(await resolveTarget(command.target));
  const [election, placement, health] = await Promise.all([
    cluster.election(),
    cluster.placement(),
    Promise.all(cluster.nodes.map(async (n) => [n.id, await n.api.isHealthy()] as const)),
  ]);
  const healthy = Object.fromEntries(health);
  const settled = election.every((s) => s.leader !== undefined);
  if (command.json) {
    print(JSON.stringify({
      ...summarize(cluster, election),
      healthy,
      shardSets: election.map((s) => ({ shardSetId: s.shardSetId, leader: s.leader ?? null, members: s.members })),
      placement: { numShards: placement.numShards, replicaFactor: placement.replicaFactor, instances: Object.keys(placement.instances).length },
      shardStates: summarizeShardStates(placement),
    }));
  } else {
    print(formatTable(summarize(cluster, election)));
    print(`\nhealth: ${health.map(([id, ok]) => `${id}=${ok ? "OK" : "DOWN"}`).join(", ")}`);
    print(`placement: ${Object.keys(placement.instances).length} instances, ${placement.numShards} shards, rf ${placement.replicaFactor}`);
    print(describeElection(election));
    print(formatShardStates(placement).join("\n"));
  }
  return health.every(([, ok]) => ok) && settled ? 0 : 1;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function send(command: Of<"send">): Promise<number> {
  const cluster = await M3AggregatorCluster.attach(await resolveTarget(command.target));
  if (command.metrics.length > 0) {
    const client = await M3IngestClient.connect(cluster, { followPlacement: false });
    const now = Date.now();
    const routed = command.metrics.map((metric) => ({ id: String(metric.id), replicas: client.router.writersOfShard(client.router.shardOf(metric.id), now) }));
    for (const metric of command.metrics) await client.send(metric);
    // Raw TCP has no acks: "written" means the kernel took the bytes; anything lost or dropped is named and exits 1.
    const report = await client.close();
    const delivery = Object.entries(report.endpoints).map(([id, e]) => `${id} (${e.endpoint}): written ${e.written}, lost ${e.lost}${e.lost > 0 ? ` (${Object.entries(e.lostBy).map(([r, n]) => `${n} ${r}`).join(", ")})` : ""}`);
    if (report.dropped > 0) delivery.push(`dropped ${report.dropped}: no instance accepts their shard now`);
    print(command.json ? JSON.stringify({ sent: routed, delivery: report }) : [...routed.map((r) => `sent ${r.id} to ${r.replicas.join(", ")}`), ...delivery].join("\n"));
    return report.lost === 0 && report.dropped === 0 ? 0 : 1;
  }
  const which = command.node === undefined ? 0 : /^\d+$/.test(command.node) ? Number(command.node) - 1 : command.node;
  const node = cluster.node(which);
  const bytes = await sendRaw(node.getHost(), node.getTcpPort(), new Uint8Array(await readStdin()), 10_000, cluster.tls?.clientOptions());
  print(command.json ? JSON.stringify({ node: node.id, endpoint: node.getTcpEndpoint(), bytes }) : `sent ${bytes} bytes to ${node.id} (${node.getTcpEndpoint()})`);
  return 0;
}

export async function logs(command: Of<"logs">): Promise<number> {
  const cluster = await M3AggregatorCluster.attach(await resolveTarget(command.target));
  const components = command.component === undefined ? undefined : [command.component];
  const names = [cluster.etcd, cluster.coordinator, ...cluster.nodes].map((c) => c.component);
  const wanted = components ?? names;
  const width = Math.max(...wanted.map((n) => (n === "coordinator" ? "m3coordinator" : n).length));
  const color = process.stdout.isTTY === true && !noColor();
  const prefix = wanted.length > 1 || command.follow;
  const onLine = (line: LogLine): void => {
    const shown = command.raw ? { ...line, text: line.raw } : line;
    print(prefix ? formatLogLine(shown, { width, colorIndex: names.indexOf(line.component), color }) : shown.text);
  };
  const since = command.since === undefined ? undefined : Number(command.since);
  if (!command.follow) {
    // One container after the other, each from Docker's own log (exact --since and --tail).
    for (const name of wanted) {
      const follower = await cluster.followLogs({ components: [name], since, tail: command.tail, onLine, follow: false });
      await follower.done;
    }
    return 0;
  }
  const follower = await cluster.followLogs({ components, since, tail: command.tail, onLine });
  const keepAlive = setInterval(() => undefined, 1 << 30); // Docker's log sockets do not hold the process
  await new Promise<void>((resolve) => {
    const end = () => resolve();
    process.once("SIGINT", end);
    process.once("SIGTERM", end);
    void follower.done.then(end, end); // a failure is thrown by stop() below
  });
  clearInterval(keepAlive);
  await follower.stop();
  return 0;
}

export async function connectivity(command: Of<"connectivity">): Promise<number> {
  const cluster = await M3AggregatorCluster.attach(await resolveTarget(command.target));
  const checks = await runConnectivity(cluster);
  if (command.json) print(JSON.stringify({ clusterId: cluster.getClusterId(), ok: checks.every((c) => c.ok), checks }));
  else for (const c of checks) print(`${c.ok ? "PASS" : "FAIL"}  ${c.check.padEnd(24)} ${c.detail}`);
  return checks.every((c) => c.ok) ? 0 : 1;
}
