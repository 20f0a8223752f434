/**
 * The flags of `m3agg up` (and the seed's env vars), shared by `up` and `load`: its own module
 * so that args.ts (which dispatches to load's parser) and load.ts do not import each other.
 */
import type { FlushBackend, LogLevel, M3AggregatorClusterOptions } from "../model/options";
import { envFlag } from "../model/environment";
import type { TlsMode } from "../model/tls";

/** A usage error: the CLI prints it with the usage text and exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Which cluster a command acts on: `--cluster ID`, else the state file's, else the only one running.
 * `swarm`: the engines of a Docker Swarm to look on (flags or env), instead of this machine's engine.
 */
export interface Target {
  clusterId: string | undefined;
  swarm?: SwarmEngines | undefined;
}

/** `m3agg up`: the cluster's options, and how to report and keep it. */
export interface UpCommand { command: "up"; options: M3AggregatorClusterOptions; json: boolean; detach: boolean }

/** A swarm's engines as the CLI takes them: Docker hosts (the manager first) and, for engines in network namespaces, relays. */
export interface SwarmEngines {
  engines: string[];
  relays?: { engines: string[]; sink: string };
}

/** Where scripts/swarm-engines.sh puts the sockets of its engines set ID. */
export function swarmEnginesOfScript(id: string): Required<SwarmEngines> {
  const root = `/run/m3agg-swarm/${id}`;
  return {
    engines: [`unix://${root}/0.sock`, `unix://${root}/1.sock`],
    relays: { engines: [`${root}/relay-0.sock`, `${root}/relay-1.sock`], sink: `${root}/sink.sock` },
  };
}

export const SWARM_ENGINES_RULE = "--target swarm needs the swarm's engines: --engine HOST (repeat it, the manager first; " +
  "or M3AGG_SWARM_ENGINES=HOST,HOST), or --swarm-engines ID for the engines of `scripts/swarm-engines.sh up ID`";

/** The swarm flags of up, down and status: --engine, --relay, --sink-relay, --swarm-engines (and their env vars). */
export class SwarmFlags {
  private readonly engines: string[] = [];
  private readonly relays: string[] = [];
  private sinkRelay: string | undefined;
  private scriptId: string | undefined;
  private readonly seen: string[] = [];

  /** Takes one of the swarm flags; false for any other flag. */
  take(flag: string, value: () => string): boolean {
    if (flag === "--engine") this.engines.push(value());
    else if (flag === "--relay") this.relays.push(value());
    else if (flag === "--sink-relay") this.sinkRelay = value();
    else if (flag === "--swarm-engines") this.scriptId = value();
    else return false;
    this.seen.push(flag);
    return true;
  }

  /** The swarm flags given on the command line (not env vars). */
  given(): string[] {
    return [...new Set(this.seen)];
  }

  /**
   * The engines from the flags, else from M3AGG_SWARM_ENGINES / M3AGG_SWARM_RELAYS / M3AGG_SWARM_SINK_RELAY
   * (comma-separated), or undefined when neither names one. Throws {@link UsageError} naming the rule.
   */
  resolve(env: NodeJS.ProcessEnv): SwarmEngines | undefined {
    const list = (name: string): string[] => (env[name] ?? "").split(",").map((x) => x.trim()).filter((x) => x !== "");
    if (this.scriptId !== undefined) {
      if (!/^[a-z0-9]{1,8}$/.test(this.scriptId)) throw new UsageError(`--swarm-engines takes the ID given to scripts/swarm-engines.sh up (1-8 lowercase letters or digits), got ${JSON.stringify(this.scriptId)}`);
      const others = this.given().filter((f) => f !== "--swarm-engines");
      if (others.length > 0) throw new UsageError(`--swarm-engines names the engines and relays already; it excludes ${others.join(", ")}`);
      return swarmEnginesOfScript(this.scriptId);
    }
    const engines = this.engines.length > 0 ? this.engines : list("M3AGG_SWARM_ENGINES");
    const relays = this.relays.length > 0 ? this.relays : list("M3AGG_SWARM_RELAYS");
    const sink = this.sinkRelay ?? (env.M3AGG_SWARM_SINK_RELAY || undefined);
    if (engines.length === 0) {
      if (relays.length > 0 || sink !== undefined) throw new UsageError(`relays without engines: ${SWARM_ENGINES_RULE}`);
      return undefined;
    }
    if (relays.length === 0) {
      if (sink !== undefined) throw new UsageError("--sink-relay needs the engines' relays (--relay SOCKET, one per engine)");
      return { engines };
    }
    if (relays.length !== engines.length) throw new UsageError(`--relay: one per engine, in the engines' order (${engines.length} engines, ${relays.length} relays)`);
    if (sink === undefined) throw new UsageError("--relay needs --sink-relay SOCKET (where the relays forward the containers' connections to the sink)");
    return { engines, relays: { engines: relays, sink } };
  }
}

const UP_NUMBER_FLAGS: Record<string, keyof M3AggregatorClusterOptions> = {
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

export function toInteger(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} takes a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Walks the flags of one command; `handle` returns false for a flag it does not know. */
export function eachFlag(rest: string[], handle: (flag: string, value: () => string) => boolean): string[] {
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    if (!flag.startsWith("--")) {
      positional.push(flag);
      continue;
    }
    const value = (): string => {
      const next = rest[++i];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    if (!handle(flag, value)) throw new UsageError(`unknown flag ${JSON.stringify(flag)}`);
  }
  return positional;
}

/** `up`'s flags and the seed's env vars; `load` reuses them for the cluster it starts. */
export function parseUp(rest: string[], env: NodeJS.ProcessEnv): UpCommand {
  const options: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_NUMBERS)) {
    const value = env[name];
    if (value !== undefined && value !== "") options[key] = toInteger(name, value);
  }
  let json = false;
  let detach = false;
  const debug: { enabled: boolean; basePort?: number; waitForDebugger?: boolean } = {
    enabled: envFlag(env.M3_AGGREGATOR_DEBUG_MODE),
  };
  const debugBase = env.M3_AGGREGATOR_DEBUG_BASE_PORT;
  if (debugBase !== undefined && debugBase !== "") debug.basePort = toInteger("M3_AGGREGATOR_DEBUG_BASE_PORT", debugBase);
  const tls: { mode?: string; mutualTls?: boolean } = {};
  let target: string | undefined;
  const kube: { kubeconfig?: string; context?: string; registry?: string } = {};
  const swarm = new SwarmFlags();
  const positional = eachFlag(rest, (flag, value) => {
    if (swarm.take(flag, value)) return true;
    const numberKey = UP_NUMBER_FLAGS[flag];
    if (numberKey !== undefined) options[numberKey] = toInteger(flag, value());
    else if (flag === "--backend") options.backend = value() as FlushBackend;
    else if (flag === "--log-level") options.logLevel = value() as LogLevel;
    else if (flag === "--cluster-id") options.clusterId = value();
    else if (flag === "--host") options.host = value();
    else if (flag === "--m3-version") options.m3Version = value();
    else if (flag === "--m3-source") options.m3Source = value();
    else if (flag === "--tls") tls.mode = value();
    else if (flag === "--no-mtls") tls.mutualTls = false;
    else if (flag === "--faults") options.faults = true;
    else if (flag === "--target") target = value();
    else if (flag === "--kubeconfig") kube.kubeconfig = value();
    else if (flag === "--context") kube.context = value();
    else if (flag === "--registry") kube.registry = value();
    else if (flag === "--json") json = true;
    else if (flag === "--detach") detach = true;
    else if (flag === "--debug") debug.enabled = true;
    else if (flag === "--debug-base-port") debug.basePort = toInteger(flag, value());
    else if (flag === "--debug-wait") debug.waitForDebugger = true;
    else if (flag === "--target") target = value();
    else return false;
    return true;
  });
  if (positional.length > 0) throw new UsageError(`up takes no arguments, got ${JSON.stringify(positional[0])}`);
  if (!debug.enabled && (debug.waitForDebugger !== undefined || rest.includes("--debug-base-port"))) {
    throw new UsageError("--debug-wait and --debug-base-port need --debug (or M3_AGGREGATOR_DEBUG_MODE=true)");
  }
  if (debug.enabled) {
    options.debug = {
      ...(debug.basePort === undefined ? {} : { basePort: debug.basePort }),
      ...(debug.waitForDebugger === undefined ? {} : { waitForDebugger: debug.waitForDebugger }),
    };
  }
  if (tls.mode === "off") {
    if (tls.mutualTls !== undefined) throw new UsageError("--no-mtls needs TLS on (--tls permissive or enforced)");
    options.tls = false;
  } else if (tls.mode !== undefined || tls.mutualTls !== undefined) {
    // An unknown mode is left to the option check, whose error names the allowed values.
    options.tls = { mode: (tls.mode ?? "permissive") as TlsMode, ...(tls.mutualTls === undefined ? {} : { mutualTls: tls.mutualTls }) };
  }
  if (target !== undefined && target !== "docker" && target !== "swarm" && target !== "kubernetes") {
    throw new UsageError(`--target takes docker, swarm or kubernetes, got ${JSON.stringify(target)}`);
  }
  for (const [key, given] of Object.entries(kube)) {
    if (given !== undefined && target !== "kubernetes") throw new UsageError(`--${key} is for --target kubernetes`);
  }
  const swarmGiven = swarm.given();
  if (target !== "swarm" && swarmGiven.length > 0) throw new UsageError(`${swarmGiven.join(", ")} ${swarmGiven.length === 1 ? "is" : "are"} for --target swarm`);
  if (target === "swarm") {
    const engines = swarm.resolve(env);
    if (engines === undefined) throw new UsageError(SWARM_ENGINES_RULE);
    options.target = { swarm: engines };
  } else if (target === "kubernetes") {
    if (detach) throw new UsageError("--detach does not apply to --target kubernetes: the namespace belongs to this process (Ctrl-C deletes it; the next start's sweep deletes it once the process is gone)");
    options.target = { kubernetes: kube };
  } else if (detach) {
    options.reuse = true;
  }
  return { command: "up", options: options as M3AggregatorClusterOptions, json, detach };
}
