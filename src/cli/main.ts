#!/usr/bin/env node
/**
 * m3agg: the seed's start_m3.sh/stop_m3.sh as one command. `up` starts a
 * cluster, prints its endpoints, and removes it on Ctrl-C / SIGTERM.
 * Exit codes: 0 ok, 1 the cluster failed, 2 usage error.
 */
import { M3AggregatorCluster } from "../cluster";
import { InvalidOptionError } from "../options";
import { parseArgs, USAGE, UsageError, type UpCommand } from "./args";
import { formatTable, summarize } from "./endpoints";

async function up(command: UpCommand): Promise<number> {
  const fixture = new M3AggregatorCluster(command.options);
  if (!command.json) process.stderr.write(`starting cluster ${fixture.options.clusterId}: ${fixture.options.nodes} nodes, rf ${fixture.options.rf} …\n`);
  const cluster = await fixture.start();
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: removing cluster ${cluster.id} …\n`);
    await cluster.stop();
    process.stderr.write(`removed in ${cluster.stopTimeMs} ms\n`);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  const summary = summarize(cluster, await cluster.election());
  process.stdout.write(command.json ? `${JSON.stringify(summary)}\n` : `${formatTable(summary)}\n\nrunning; Ctrl-C removes it\n`);
  setInterval(() => undefined, 1 << 30); // keeps the process (and so the cluster) alive until a signal
  await new Promise(() => undefined);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let command;
  try {
    command = parseArgs(argv);
    if (command.command === "up") new M3AggregatorCluster(command.options); // validate before anything prints
  } catch (error) {
    if (error instanceof UsageError || error instanceof InvalidOptionError) {
      process.stderr.write(`m3agg: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (command.command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  return up(command);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    process.stderr.write(`m3agg: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
