/**
 * Stress benchmark: N processes side by side, each starting and stopping M
 * clusters (4 nodes rf 2 by default) in a loop, while a churn process keeps
 * binding port-0 listeners and opening outgoing loopback connections (what
 * other suites, databases and browsers do on a busy CI host). Counts starts
 * attempted / succeeded / retried (a container could not bind and the start
 * was re-planned) / failed, and the time per start.
 *
 *   npm run bench:stress                                   # 2 processes × 5 starts
 *   STRESS_PROCS=3 STRESS_STARTS=70 npm run bench:stress   # 210 starts
 *
 * Env: STRESS_PROCS, STRESS_STARTS, STRESS_NODES (4), STRESS_RF (2), STRESS_CHURN (1; 0 = off),
 * STRESS_MAX_MINUTES (30: no new start after that; the churn stops by itself then too).
 * Prints a table, then one JSON document on the last line. Exit code 1 when a start failed.
 *
 * Internal modes (same file): `worker <starts> <deadline>` and `churn <deadline>`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import * as readline from "node:readline";
import { M3AggregatorCluster } from "../src/cluster/start";
import { ephemeralPortRange, isPortFree, PortAllocator } from "../src/ports";

interface StartResult {
  worker: number;
  ok: boolean;
  /** start() → ready, ms. */
  ms: number;
  stopMs?: number;
  /** Port plans made by this start: 1, or more when it retried. */
  plans: number;
  error?: string;
}

interface ChurnStats {
  listeners: number;
  connections: number;
  failedConnections: number;
  /** Ports the kernel gave the churn (listeners and connections) outside its ephemeral range: expected 0. */
  outsideEphemeral: number;
}

/** How often a port was taken 2 s after it was picked (about the gap between the plan and an aggregator's HTTP bind). */
interface ProbeStats {
  /** Picked the get-port way: bind port 0, read the port, close. */
  portZero: { probes: number; taken: number };
  /** Picked by the fixture's allocator (outside the ephemeral range, reserved). */
  allocator: { probes: number; taken: number };
}

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name}=${process.env[name]}: must be a whole number >= 0`);
  return value;
};

/** One worker process: `starts` sequential start/stop cycles, one JSON line each. */
async function worker(index: number, starts: number, deadline: number): Promise<void> {
  const nodes = env("STRESS_NODES", 4);
  const rf = env("STRESS_RF", 2);
  for (let i = 0; i < starts && Date.now() < deadline; i++) {
    let plans = 0;
    const t0 = Date.now();
    const result: StartResult = { worker: index, ok: false, ms: 0, plans: 0 };
    try {
      const cluster = await M3AggregatorCluster.start({
        nodes, rf, clusterId: `stress-${process.pid}-${i}`,
        onProgress: (p) => { if (p.phase === "ports" && p.state === "begin") plans++; },
      });
      result.ms = Date.now() - t0;
      result.ok = true;
      const s0 = Date.now();
      await cluster.stop();
      result.stopMs = Date.now() - s0;
    } catch (error) {
      result.ms = Date.now() - t0;
      result.error = (error as Error).message.split("\n").slice(0, 6).join("\n");
    }
    result.plans = plans;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

/**
 * The churn: up to 300 port-0 listeners and 300 outgoing loopback connections held at any time, two of
 * each replaced every ~5 ms, until `deadline` (it stops by itself) or its parent is done. The server side
 * closes first, so TIME_WAIT sits on the target's port and the churn does not exhaust the ephemeral range.
 */
async function churn(deadline: number): Promise<void> {
  const stats: ChurnStats = { listeners: 0, connections: 0, failedConnections: 0, outsideEphemeral: 0 };
  const ephemeral = ephemeralPortRange();
  const count = (port: number | undefined) => {
    if (port !== undefined && (port < ephemeral.from || port > ephemeral.to)) stats.outsideEphemeral++;
  };
  const accepted: net.Socket[] = [];
  const target = net.createServer((socket) => {
    socket.on("error", () => undefined);
    accepted.push(socket);
  });
  await new Promise<void>((resolve) => target.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const targetPort = (target.address() as net.AddressInfo).port;
  const listeners: net.Server[] = [];
  const sockets: net.Socket[] = [];
  const stopAt = Math.min(deadline, Date.now() + 60 * 60_000);
  let stop = false;
  process.stdin.on("end", () => (stop = true)); // parent done (or gone)
  process.stdin.resume();
  while (Date.now() < stopAt && !stop) {
    for (let k = 0; k < 2; k++) {
      const server = net.createServer();
      server.on("error", () => undefined);
      server.listen({ host: "127.0.0.1", port: 0 }, () => count((server.address() as net.AddressInfo | null)?.port));
      listeners.push(server);
      stats.listeners++;
      if (listeners.length > 300) listeners.shift()?.close();
      const socket = net.connect({ host: "127.0.0.1", port: targetPort });
      socket.on("error", () => stats.failedConnections++);
      socket.once("connect", () => count(socket.localPort));
      sockets.push(socket);
      stats.connections++;
      if (sockets.length > 300) sockets.shift();
      if (accepted.length > 300) accepted.shift()?.destroy(); // server side first; the client socket then closes too
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  for (const s of sockets) s.destroy();
  for (const l of listeners) l.close();
  target.close();
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  process.exit(0);
}

/** Every 100 ms picks a port both ways, waits 2 s, and checks whether something else took it meanwhile. */
function probe(until: () => boolean): Promise<ProbeStats> {
  const stats: ProbeStats = { portZero: { probes: 0, taken: 0 }, allocator: { probes: 0, taken: 0 } };
  const allocator = new PortAllocator({ cluster: `stress-probe-${process.pid}` });
  const portZero = (): Promise<number> => new Promise((resolve) => {
    const server = net.createServer();
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
  const once = async (): Promise<void> => {
    const [zero, reserved] = await Promise.all([portZero(), allocator.allocate()]);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    stats.portZero.probes++;
    if (!(await isPortFree(zero))) stats.portZero.taken++;
    stats.allocator.probes++;
    if (!(await isPortFree(reserved))) stats.allocator.taken++;
    allocator.release([reserved]);
  };
  return (async () => {
    const running: Array<Promise<void>> = [];
    while (!until()) {
      running.push(once());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(running);
    allocator.releaseAll();
    return stats;
  })();
}

function self(args: string[]): ChildProcess {
  // node with tsx as a loader (not the tsx wrapper), so the pid we see is the process that owns the clusters
  return spawn(process.execPath, ["--import", "tsx", __filename, ...args], { stdio: ["pipe", "pipe", "inherit"] });
}

function lines(child: ChildProcess, onLine: (line: string) => void): Promise<number | null> {
  readline.createInterface({ input: child.stdout! }).on("line", onLine);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function main(): Promise<void> {
  const procs = env("STRESS_PROCS", 2);
  const starts = env("STRESS_STARTS", 5);
  const withChurn = env("STRESS_CHURN", 1) === 1;
  const deadline = Date.now() + env("STRESS_MAX_MINUTES", 30) * 60_000;
  const t0 = Date.now();

  let churnStats: ChurnStats | undefined;
  let churnDone: Promise<number | null> = Promise.resolve(0);
  let churnChild: ChildProcess | undefined;
  if (withChurn) {
    churnChild = self(["churn", String(deadline)]);
    churnDone = lines(churnChild, (line) => (churnStats = JSON.parse(line) as ChurnStats));
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // churn under way before the first start
  }
  const results: StartResult[] = [];
  let workersDone = false;
  const probing = probe(() => workersDone);
  await Promise.all(Array.from({ length: procs }, (_, i) => {
    const child = self(["worker", String(i), String(starts), String(deadline)]);
    child.stdin!.end();
    return lines(child, (line) => {
      const r = JSON.parse(line) as StartResult;
      results.push(r);
      if (!r.ok) process.stderr.write(`worker ${i}: start failed after ${r.ms} ms: ${r.error}\n`);
    });
  }));
  workersDone = true;
  const probes = await probing;
  churnChild?.stdin!.end(); // stops it now (it would stop by itself at the deadline)
  await churnDone;
  const wallMs = Date.now() - t0;

  const ok = results.filter((r) => r.ok);
  const summary = {
    processes: procs,
    startsPerProcess: starts,
    nodes: env("STRESS_NODES", 4),
    rf: env("STRESS_RF", 2),
    churn: withChurn,
    attempted: results.length,
    succeeded: ok.length,
    retried: results.filter((r) => r.plans > 1).length,
    failed: results.length - ok.length,
    startMs: { median: percentile(ok.map((r) => r.ms), 50), p95: percentile(ok.map((r) => r.ms), 95), max: Math.max(0, ...ok.map((r) => r.ms)) },
    stopMsMedian: percentile(ok.map((r) => r.stopMs ?? 0), 50),
    wallMs,
    churnStats: churnStats ?? null,
    probes,
  };
  const rows: Array<[string, string]> = [
    ["processes × starts", `${procs} × ${starts} (${summary.nodes} nodes rf ${summary.rf})`],
    ["port churn", withChurn ? `on: ${churnStats?.listeners ?? "?"} port-0 listeners, ${churnStats?.connections ?? "?"} loopback connections` : "off"],
    ["attempted", String(summary.attempted)],
    ["succeeded", String(summary.succeeded)],
    ["retried (re-planned ports)", String(summary.retried)],
    ["failed", String(summary.failed)],
    ["port taken 2 s after it was picked", `port-0 pick (get-port's way): ${probes.portZero.taken} of ${probes.portZero.probes}; allocator: ${probes.allocator.taken} of ${probes.allocator.probes}`],
    ["churn ports outside the ephemeral range", String(churnStats?.outsideEphemeral ?? "-")],
    ["start → ready, median / p95 / max", `${summary.startMs.median} / ${summary.startMs.p95} / ${summary.startMs.max} ms`],
    ["stop, median", `${summary.stopMsMedian} ms`],
    ["wall time", `${(wallMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n"));
  console.log(JSON.stringify(summary));
  if (summary.failed > 0) process.exitCode = 1;
}

const [mode, ...args] = process.argv.slice(2);
const run = mode === "worker" ? worker(Number(args[0]), Number(args[1]), Number(args[2]))
  : mode === "churn" ? churn(Number(args[0]))
    : main();
run.catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
