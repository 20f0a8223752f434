#!/usr/bin/env node
/**
 * m3agg: the seed's start_m3.sh, stop_m3.sh and test_connectivity.sh as one
 * command. Exit codes: 0 ok, 1 failure, 2 usage error, 3 no such cluster.
 */
import "./node-guard"; // first: one clear line on a too-old Node instead of undici's TypeError and a stack
import { AttachError } from "../cluster/attach";
import { M3AggregatorCluster } from "../cluster/start";
import { InvalidOptionError } from "../model/options";
import { type Command, parseArgs, USAGE, UsageError } from "./args";
import { connectivity, down, logs, send, status } from "./commands";
import { buildImages, runImageBuild, runImageCache } from "./build-images";
import { load } from "./load";
import { doctor } from "./doctor";
import { render } from "./render";
import { runImagePush } from "./push";
import { scale } from "./scale";
import { formatTable, summarize, summarizeSwarm } from "./endpoints";
import { startSwarmCluster } from "../cluster/swarm";
import { clearState, NoClusterError, writeState } from "./state";
import { forceExit } from "../lifecycle/live";
import { startKubernetesCluster } from "../cluster/kubernetes";

/** Keeps the process (and so a foreground cluster) alive until SIGINT/SIGTERM, then runs `stop` (a second signal exits at once). */
function holdUntilSignal(clusterId: string, stop: () => Promise<void>): Promise<number> {
  let stopping: Promise<void> | undefined;
  let stopped = false;
  const onSignal = async (signal: string): Promise<void> => {
    if (stopped) return; // our own re-raised signal after the teardown: exiting anyway
    if (stopping !== undefined) forceExit(signal); // the second Ctrl-C: exit now, say what is left
    process.stderr.write(`${signal}: removing cluster ${clusterId} … (${signal} again exits at once)\n`);
    const t0 = Date.now();
    stopping = stop();
    await stopping;
    stopped = true;
    process.stderr.write(`removed in ${Date.now() - t0} ms\n`);
    process.exit(0);
  };
  process.on("SIGINT", () => void onSignal("SIGINT"));
  process.on("SIGTERM", () => void onSignal("SIGTERM"));
  setInterval(() => undefined, 1 << 30);
  return new Promise<number>(() => undefined);
}

/** `up --target swarm`: deploys the stack on the swarm's engines, prints where each node runs and is dialled. */
async function upSwarm(command: Extract<Command, { command: "up" }>, fixture: M3AggregatorCluster): Promise<number> {
  const o = fixture.options;
  if (o.target.kind !== "swarm") throw new Error("upSwarm needs target swarm");
  buildImages(false, o.m3Version); // the start copies them from this machine's engine onto each engine that lacks them
  const tlsText = o.tls === undefined ? "TLS off" : `TLS ${o.tls.mode}${o.tls.mutualTls ? " (mTLS)" : ""}`;
  process.stderr.write(`starting cluster ${o.clusterId} on the swarm of ${o.target.engines.join(", ")}: ${o.nodes} nodes, rf ${o.rf}, m3 ${o.m3Version}, ${tlsText} …\n`);
  const cluster = await startSwarmCluster(o);
  const summary = summarizeSwarm(cluster, await cluster.election(), o.target.relays);
  const stateFile = writeState(summary);
  if (command.json) process.stdout.write(`${JSON.stringify({ ...summary, startupTimings: cluster.startupTimings, stateFile })}\n`);
  else process.stdout.write(`${formatTable(summary)}\nstate: ${stateFile}\n`);
  if (command.detach) {
    if (!command.json) {
      process.stdout.write(`left running; remove it with: m3agg down${o.target.relays === undefined ? "" : "\n(the 127.0.0.1 addresses were this process's relays to the engines: they end with it; m3agg status dials anew)"}\n`);
    }
    await cluster.release();
    return 0;
  }
  if (!command.json) process.stdout.write("\nrunning; Ctrl-C removes it\n");
  return holdUntilSignal(cluster.getClusterId(), async () => {
    await cluster.stop();
    clearState(cluster.getClusterId()); // status and down then do not look for a stack that is gone
  });
}

async function up(command: Extract<Command, { command: "up" }>): Promise<number> {
  if (command.options.target !== undefined && command.options.target !== "docker" && "kubernetes" in command.options.target) return upKubernetes(command);
  const begin = Date.now();
  const fixture = new M3AggregatorCluster({
    ...command.options,
    onProgress: (event) => {
      const at = `[${((Date.now() - begin) / 1000).toFixed(1).padStart(5)}s]`;
      if (event.state === "progress") process.stderr.write(`${at} ${event.phase}: ${event.detail}\n`);
      else if (event.state !== "begin") process.stderr.write(`${at} ${event.phase} ${event.state === "end" ? "done" : "FAILED"} (${event.ms} ms)\n`);
    },
  });
  const o = fixture.options;
  if (o.target.kind === "swarm") return upSwarm(command, fixture);
  // Release images are built here; a source tree is built by start() itself (its tag needs the tree's content).
  if (o.m3Source === undefined) buildImages(o.debug !== undefined, o.m3Version);
  const tlsText = o.tls === undefined ? "TLS off" : `TLS ${o.tls.mode}${o.tls.mutualTls ? " (mTLS)" : ""}`;
  process.stderr.write(`starting cluster ${o.clusterId}: ${o.nodes} nodes, rf ${o.rf}, m3 ${o.m3Version}` +
    `${o.m3Source === undefined ? "" : ` built from ${o.m3Source}`}, ${tlsText}${o.debug ? ", under delve" : ""} …\n`);
  const cluster = await fixture.start();
  const summary = summarize(cluster, await cluster.election());
  const stateFile = writeState(summary);
  if (command.json) process.stdout.write(`${JSON.stringify({ ...summary, attached: cluster.attached, stateFile })}\n`);
  else process.stdout.write(`${formatTable(summary)}\nstate: ${stateFile}\n`);
  if (command.detach) {
    if (!command.json) process.stdout.write(`${cluster.attached ? "already running" : "left running"}; remove it with: m3agg down\n`);
    return 0;
  }
  if (!command.json) process.stdout.write("\nrunning; Ctrl-C removes it\n");
  let stopping: Promise<void> | undefined;
  let stopped = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopped) return; // our own re-raised signal after the teardown: exiting anyway
    if (stopping !== undefined) forceExit(signal); // the second Ctrl-C: exit now, say what is left
    process.stderr.write(`${signal}: removing cluster ${cluster.getClusterId()} … (${signal} again exits at once)
`);
    stopping = cluster.stop();
    await stopping;
    stopped = true;
    process.stderr.write(`removed in ${cluster.getStopTimeMs()} ms\n`);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  setInterval(() => undefined, 1 << 30); // keeps the process (and so the cluster) alive until a signal
  return new Promise<number>(() => undefined);
}

/** `up --target kubernetes`: applies the cluster to a namespace, prints its nodes, deletes the namespace on Ctrl-C. */
async function upKubernetes(command: Extract<Command, { command: "up" }>): Promise<number> {
  const fixture = new M3AggregatorCluster(command.options);
  const o = fixture.options;
  process.stderr.write(`starting cluster ${o.clusterId} on kubernetes: ${o.nodes} nodes, rf ${o.rf}, m3 ${o.m3Version} (namespace ${o.clusterId}) …\n`);
  const begin = Date.now();
  const cluster = await startKubernetesCluster(o, (phase, ms, ok) => {
    process.stderr.write(`[${((Date.now() - begin) / 1000).toFixed(1).padStart(5)}s] ${phase} ${ok ? "done" : "FAILED"} (${ms} ms)\n`);
  });
  const nodes = cluster.nodes.map((n) => ({ id: n.id, endpoint: n.getTcpEndpoint(), dial: n.getDialAddress(), http: n.getHttpUrl() }));
  const summary = { clusterId: cluster.getClusterId(), namespace: cluster.getNamespace(), ...cluster.getKubernetes(), nodes, leaders: Object.fromEntries(await cluster.leaders()), startupTimings: cluster.startupTimings };
  if (command.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${nodes.map((n) => `${n.id}  ${n.endpoint}  dial ${n.dial}  http ${n.http}`).join("\n")}\nready in ${cluster.startupTimings.total} ms (apply → ready ${cluster.startupTimings.applyToReadyMs} ms); running; Ctrl-C deletes namespace ${cluster.getNamespace()}\n`);
  let stopping: Promise<void> | undefined;
  let stopped = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopped) return; // our own re-raised signal after the teardown: exiting anyway
    if (stopping !== undefined) forceExit(signal); // the second Ctrl-C: exit now
    process.stderr.write(`${signal}: deleting namespace ${cluster.getNamespace()} … (${signal} again exits at once)\n`);
    stopping = cluster.stop();
    try {
      await stopping;
    } catch (error) {
      process.stderr.write(`m3agg: ${(error as Error).message}\n`);
      process.exit(1);
    }
    stopped = true;
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  setInterval(() => undefined, 1 << 30); // keeps the process (and so the namespace) alive until a signal
  return new Promise<number>(() => undefined);
}

async function run(command: Command): Promise<number> {
  switch (command.command) {
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case "up":
      return up(command);
    case "down":
      return down(command);
    case "status":
      return status(command);
    case "send":
      return send(command);
    case "connectivity":
      return connectivity(command);
    case "logs":
      return logs(command);
    case "load":
      return load(command);
    case "scale":
      return scale(command);
    case "images":
      if (command.push !== undefined) return runImagePush(command.args, command.push);
      return command.save !== undefined || command.load !== undefined ? runImageCache(command.args, command) : runImageBuild(command.args);
    case "doctor":
      return doctor(command);
    case "render":
      return render(command);
  }
}

async function main(argv: string[]): Promise<number> {
  // A closed stdout or stderr (`m3agg up | head -1`, a pager quit, Ctrl-C on `| tee`) fails writes
  // with EPIPE: ignore it, so the teardown runs to its end instead of the process dying mid-way.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  let command: Command;
  try {
    command = parseArgs(argv);
    if (command.command === "up" || command.command === "render") new M3AggregatorCluster(command.options); // validate before anything prints
    if (command.command === "load" && command.clusterId === undefined) new M3AggregatorCluster(command.cluster);
  } catch (error) {
    if (error instanceof UsageError || error instanceof InvalidOptionError) {
      process.stderr.write(`m3agg: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  try {
    return await run(command);
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      process.stderr.write(`m3agg: ${error.message}\n`);
      return 2;
    }
    if (error instanceof NoClusterError || error instanceof AttachError) {
      process.stderr.write(`m3agg: ${error.message}\n`);
      return 3;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    process.stderr.write(`m3agg: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
