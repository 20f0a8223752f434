/**
 * The seed's test_connectivity.sh, as four checks with results:
 * 1. host → each node (raw TCP connect, HTTP /health),
 * 2. container → each node (m3agg-probe inside a node's container dials every node),
 * 3. placement endpoints = the nodes' raw TCP addresses,
 * 4. a framed metric send: a valid frame is accepted and the connection stays open.
 */
import type * as tls from "node:tls";
import type { StartedM3AggregatorCluster } from "../cluster/started";
import { encodeFrame } from "../ingest/encoder";
import { dial, tcpProbe } from "../util/socket";

export interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
}

/** One real counter frame ("m3agg.connectivity" += 1, default metadata), from the ingest encoder. */
export function connectivityCounterFrame(id = "m3agg.connectivity"): Buffer {
  return encodeFrame({ type: "counter", id, value: 1 });
}

/** Sends the frame, waits, and reports whether the node kept the connection open (it closes on a bad frame). */
function sendFrameKeepsOpen(host: string, port: number, frame: Buffer, tlsOptions?: tls.ConnectionOptions, waitMs = 1_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = dial(host, port, tlsOptions, () => socket.write(frame));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, waitMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve("the node closed the connection (decode error?)");
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      resolve(e.message);
    });
  });
}

export async function runConnectivity(cluster: StartedM3AggregatorCluster): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const nodes = cluster.nodes;

  const hostFailures: string[] = [];
  for (const n of nodes) {
    const tcp = await tcpProbe(n.getHost(), n.getTcpPort(), 2_000);
    if (tcp !== undefined) hostFailures.push(`${n.id} ${n.getTcpEndpoint()}: ${tcp}`);
    if (!(await n.api.isHealthy())) hostFailures.push(`${n.id} ${n.getHttpUrl()}/health: not OK`);
  }
  results.push({ check: "host -> nodes", ok: hostFailures.length === 0, detail: hostFailures.join("; ") || `${nodes.length} nodes: raw TCP and /health OK` });

  const targets = nodes.flatMap((n) => [n.getTcpEndpoint(), `${n.getHost()}:${n.getHttpPort()}`]);
  const from = nodes[0];
  if (from !== undefined) {
    const exec = await from.exec(["/bin/m3agg-probe", ...targets]);
    const failed = exec.output.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { address: string; ok: boolean; error?: string }).filter((r) => !r.ok);
    results.push({
      check: "container -> nodes",
      ok: exec.exitCode === 0,
      detail: exec.exitCode === 0 ? `from ${from.id}'s container: ${targets.length} addresses OK`
        : `from ${from.id}'s container: ${failed.map((r) => `${r.address}: ${r.error}`).join("; ") || exec.output.trim()}`,
    });
  }

  const placement = await cluster.placement();
  // The live placement against the plan (the one place node endpoints are computed).
  const mismatched = cluster.plan.nodes.filter((n) => placement.instances[n.id]?.endpoint !== n.tcpEndpoint)
    .map((n) => `${n.id}: placement ${placement.instances[n.id]?.endpoint ?? "missing"}, plan ${n.tcpEndpoint}`);
  results.push({ check: "placement endpoints", ok: mismatched.length === 0, detail: mismatched.join("; ") || "every instance's endpoint is its node's raw TCP address" });

  const sendFailures: string[] = [];
  for (const n of nodes) {
    const error = await sendFrameKeepsOpen(n.getHost(), n.getTcpPort(), connectivityCounterFrame(), cluster.tls?.clientOptions());
    if (error !== undefined) sendFailures.push(`${n.id}: ${error}`);
  }
  const over = cluster.tls === undefined ? "" : ` over TLS (${cluster.tls.mode}${cluster.tls.mutualTls ? ", mTLS" : ""})`;
  results.push({ check: "metric send", ok: sendFailures.length === 0, detail: sendFailures.join("; ") || `a framed counter was accepted by every node${over} (connection kept open)` });
  return results;
}
