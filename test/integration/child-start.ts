/**
 * Child process for tests that need a separate process: starts a cluster from
 * the JSON options in argv[2], prints {"clusterId": …} on success or
 * {"error": …, "name": …, "ms": time to the rejection} on failure, then stops the cluster and exits.
 * M3AGG_CHILD_HOLD=1: instead keeps running (cluster up) until a signal.
 */
import { M3AggregatorCluster } from "../../src/cluster/start";

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? "{}");
  const t0 = Date.now();
  try {
    const cluster = await M3AggregatorCluster.start(options);
    process.stdout.write(`${JSON.stringify({ clusterId: cluster.getId() })}\n`);
    if (process.env.M3AGG_CHILD_HOLD === "1") setInterval(() => undefined, 1 << 30);
    else await cluster.stop();
  } catch (error) {
    const e = error as Error;
    process.stdout.write(`${JSON.stringify({ error: e.message, name: e.name, ms: Date.now() - t0 })}\n`);
    process.exitCode = 1;
  }
}

void main();
