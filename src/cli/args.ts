/**
 * Command-line and seed env-var parsing for the CLI. Flags win over the
 * seed's env vars (M3_AGGREGATOR_NODE_COUNT, …), which win over defaults.
 */
import type { FlushBackend, LogLevel, M3AggregatorClusterOptions } from "../options";

/** A usage error: the CLI prints it with the usage text and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface UpCommand {
  command: "up";
  options: M3AggregatorClusterOptions;
  json: boolean;
}

export interface HelpCommand {
  command: "help";
}

export type Command = UpCommand | HelpCommand;

export const USAGE = `usage: m3agg <command> [flags]

commands:
  up        start a cluster, print its endpoints, keep it running until Ctrl-C (then remove it)
  help      this text

flags of up (env var of the seed scripts in brackets):
  --nodes N          aggregator nodes, even, >= 2        [M3_AGGREGATOR_NODE_COUNT]   default 4
  --rf N             replication factor, divides nodes   [M3_AGGREGATOR_REPLICA_FACTOR] default 2
  --base-port N      seed port layout from N             [M3_AGGREGATOR_BASE_PORT]    default: free ports
  --shards N         placement shards                                                  default 64
  --backend B        blackhole | logging                                               default blackhole
  --log-level L      debug | info | warn | error                                       default info
  --election-ttl S   leader election TTL in seconds                                    default 10
  --cluster-id ID    label value for the containers                                    default random
  --json             print the endpoints as one JSON line instead of a table`;

const NUMBER_FLAGS: Record<string, keyof M3AggregatorClusterOptions> = {
  "--nodes": "nodes",
  "--rf": "rf",
  "--base-port": "basePort",
  "--shards": "numShards",
  "--election-ttl": "electionTtlSeconds",
};

const ENV_NUMBERS: Record<string, keyof M3AggregatorClusterOptions> = {
  M3_AGGREGATOR_NODE_COUNT: "nodes",
  M3_AGGREGATOR_REPLICA_FACTOR: "rf",
  M3_AGGREGATOR_BASE_PORT: "basePort",
};

function toInteger(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} takes a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parses argv (without node and script) and the environment. Throws {@link UsageError}. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") return { command: "help" };
  if (command !== "up") throw new UsageError(`unknown command ${JSON.stringify(command)}`);

  const options: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_NUMBERS)) {
    const value = env[name];
    if (value !== undefined && value !== "") options[key] = toInteger(name, value);
  }
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    const value = (): string => {
      const next = rest[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    const numberKey = NUMBER_FLAGS[flag];
    if (numberKey !== undefined) options[numberKey] = toInteger(flag, value());
    else if (flag === "--backend") options.backend = value() as FlushBackend;
    else if (flag === "--log-level") options.logLevel = value() as LogLevel;
    else if (flag === "--cluster-id") options.clusterId = value();
    else if (flag === "--json") json = true;
    else throw new UsageError(`unknown flag ${JSON.stringify(flag)}`);
  }
  return { command: "up", options: options as M3AggregatorClusterOptions, json };
}
