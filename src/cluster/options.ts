/**
 * Cluster options, their defaults, and the validation that runs before any
 * container starts. Every rule here mirrors what m3's mirrored aggregator
 * placement accepts, so a bad topology fails in milliseconds instead of as an
 * HTTP 500 from the coordinator a minute later.
 *
 * One typed table ({@link OPTION_RULES}) holds one rule per option, in the order they resolve (a
 * rule may read the options resolved before it). `satisfies` ties the table to
 * {@link M3AggregatorClusterOptions}: an option without a rule, or a rule without an option, does
 * not compile, and the list of known options is the table's keys. The environment is read once
 * per resolve ({@link readClusterEnvironment}) and what it decided is kept in the resolved options.
 */

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { defaultM3Version, type M3Version, profileOfSource, supportedM3Versions, versionProfile } from "../model/versions";
import type { TlsMode, TlsOption, TlsSettings } from "../model/tls";
import type { ImageComponent, ImageNames } from "../model/components";
import { type ClusterEnvironment, readClusterEnvironment } from "../model/environment";
import { DNS_LABEL, LOOPBACK } from "../model/network";
import {
  type DebugOptions, type FlushBackend, type ImageMode, InvalidOptionError, type LogLevel, type M3AggregatorClusterOptions, type ResolvedClusterOptions, type ResolvedTarget,
} from "../model/options";

export const DEFAULTS = {
  nodes: 4,
  rf: 2,
  numShards: 64,
  electionTtlSeconds: 10,
  backend: "blackhole" as FlushBackend,
  logLevel: "info" as LogLevel,
  startTimeoutMs: 180_000,
} as const;

const MAX_SHARDS = 4096;
const BACKENDS: readonly FlushBackend[] = ["blackhole", "logging", "sink"];
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
const TLS_MODES: readonly TlsMode[] = ["permissive", "enforced"];
const IMAGE_MODES: readonly ImageMode[] = ["auto", "local", "official"];
const IMAGE_COMPONENTS: readonly ImageComponent[] = ["m3aggregator", "m3coordinator", "etcd", "m3aggregatorDebug", "toxiproxy"];

/** A directory holding m3's go.mod, as an absolute path. */
function m3SourceDir(value: unknown): string {
  const rule = "must be the directory of a local m3 checkout (holding the go.mod of module github.com/m3db/m3)";
  if (typeof value !== "string" || value.trim() === "") throw new InvalidOptionError("m3Source", value, rule);
  const dir = path.resolve(value);
  let goMod = "";
  try {
    goMod = fs.readFileSync(path.join(dir, "go.mod"), "utf8");
  } catch {
    throw new InvalidOptionError("m3Source", value, `${rule}; ${path.join(dir, "go.mod")} cannot be read`);
  }
  if (!/^module github\.com\/m3db\/m3\s*$/m.test(goMod)) {
    throw new InvalidOptionError("m3Source", value, `${rule}; ${path.join(dir, "go.mod")} is another module`);
  }
  return dir;
}

/** TLS settings from the option (or DISABLE_TLS), checked against what the version supports. */
function tlsSettings(value: TlsOption | undefined, version: M3Version, env: ClusterEnvironment): TlsSettings | undefined {
  const supported = versionProfile(version).supportsTls;
  if (value === undefined) return supported && !env.disableTls ? { mode: "permissive", mutualTls: true } : undefined;
  if (value === false) return undefined;
  const rule = `must be false, "permissive", "enforced" or { mode: "permissive" | "enforced", mutualTls?: boolean }`;
  const given = typeof value === "string" ? { mode: value } : value;
  if (typeof given !== "object" || given === null || !TLS_MODES.includes(given.mode as TlsMode)) throw new InvalidOptionError("tls", value, rule);
  const mutualTls = (given as { mutualTls?: unknown }).mutualTls ?? true;
  if (typeof mutualTls !== "boolean") throw new InvalidOptionError("tls.mutualTls", mutualTls, "must be true or false");
  if (!supported) {
    throw new InvalidOptionError("tls", value,
      `m3 ${version} has no raw TCP TLS (added to m3 in October 2024): use tls: false, or m3Version: "v1.6.0"`);
  }
  return { mode: given.mode as TlsMode, mutualTls };
}

function integer(option: string, value: unknown, min: number, max: number, why: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, value, `must be an integer from ${min} to ${max} (${why})`);
  }
  return value;
}

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new InvalidOptionError(option, value, `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
  }
  return value as T;
}

function randomClusterId(): string {
  return `m3agg-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The target option, checked. */
function resolveTarget(value: unknown): ResolvedTarget {
  const rule = 'must be "docker", { swarm: { engines?: [DOCKER_HOST, …] } } or { kubernetes: { kubeconfig?, context?, registry? } }';
  if (value === undefined || value === "docker") return { kind: "docker" };
  if (typeof value !== "object" || value === null || Object.keys(value).length !== 1) throw new InvalidOptionError("target", value, rule);
  if ("swarm" in value) {
    const engines = (value.swarm as { engines?: unknown } | null)?.engines ?? [];
    if (!Array.isArray(engines) || !engines.every((e) => typeof e === "string" && /^(unix|tcp|ssh):\/\/\S+$/.test(e))) {
      throw new InvalidOptionError("target.swarm.engines", engines, "must be a list of Docker hosts (unix:///…, tcp://…, ssh://…), the first a swarm manager");
    }
    const relays = (value.swarm as { relays?: { engines?: unknown; sink?: unknown } }).relays;
    if (relays !== undefined) {
      const ok = Array.isArray(relays.engines) && relays.engines.length === engines.length && relays.engines.every((r) => typeof r === "string" && r !== "") && typeof relays.sink === "string" && relays.sink !== "";
      if (!ok) throw new InvalidOptionError("target.swarm.relays", relays, "must be { engines: [one relay socket per engine], sink: socket }");
    }
    return { kind: "swarm", engines: [...(engines as string[])], relays: relays === undefined ? undefined : { engines: [...(relays.engines as string[])], sink: relays.sink as string } };
  }
  if ("kubernetes" in value) {
    const k = (value.kubernetes ?? {}) as Record<string, unknown>;
    const text = (key: string): string | undefined => {
      const v = k[key];
      if (v !== undefined && (typeof v !== "string" || v.trim() === "")) throw new InvalidOptionError(`target.kubernetes.${key}`, v, "must be a non-empty string");
      return v as string | undefined;
    };
    for (const key of Object.keys(k)) {
      if (!["kubeconfig", "context", "registry"].includes(key)) throw new InvalidOptionError(`target.kubernetes.${key}`, k[key], "is not an option (known: kubeconfig, context, registry)");
    }
    return { kind: "kubernetes", kubeconfig: text("kubeconfig"), context: text("context"), registry: text("registry") };
  }
  throw new InvalidOptionError("target", value, rule);
}

/**
 * The rules of the named network model (swarm, kubernetes): the engine owns addresses and ports,
 * so the loopback model's port and host options do not apply, and names must be DNS labels.
 */
function checkNamedModel(options: M3AggregatorClusterOptions, target: ResolvedTarget, clusterId: string): void {
  const loopbackOnly = ["basePort", "host", "coordinatorPort", "etcdPort", "debug", "reuse", "m3Source", "faults"] as const;
  for (const key of loopbackOnly) {
    const given = options[key];
    if (given !== undefined && given !== false) {
      throw new InvalidOptionError(key, given, `applies to target "docker" only: on ${target.kind} ports are fixed and addresses are DNS names (the named network model)`);
    }
  }
  if (target.kind === "kubernetes" && options.backend === "sink") {
    throw new InvalidOptionError("backend", options.backend, 'on kubernetes the pods cannot reach an in-process sink of this process: use "blackhole" or "logging"');
  }
  if (!DNS_LABEL.test(clusterId) || clusterId.length > 40) {
    throw new InvalidOptionError("clusterId", clusterId, `on ${target.kind} it names a ${target.kind === "kubernetes" ? "namespace" : "stack"}: 1–40 lowercase letters, digits or '-', starting and ending with a letter or digit`);
  }
}

/** The options resolved so far (a rule reads those of the rules before it), the raw options, and the environment. */
interface RuleContext {
  resolved: Partial<ResolvedClusterOptions>;
  options: M3AggregatorClusterOptions;
  env: ClusterEnvironment;
}

/** Resolves one option: its value after defaults and checks, as fields of the resolved options. */
type OptionRule<K extends keyof M3AggregatorClusterOptions> = (given: M3AggregatorClusterOptions[K], context: RuleContext) => Partial<ResolvedClusterOptions>;

/** What an earlier rule resolved (the table's order guarantees it is there). */
function earlier<K extends keyof ResolvedClusterOptions>(context: RuleContext, key: K): ResolvedClusterOptions[K] {
  return context.resolved[key] as ResolvedClusterOptions[K];
}

/** One rule per option, in resolution order. */
export const OPTION_RULES = {
  nodes: (given) => {
    const nodes = integer("nodes", given ?? DEFAULTS.nodes, 2, 64, "number of aggregator nodes");
    if (nodes % 2 !== 0) throw new InvalidOptionError("nodes", nodes, "must be even: aggregator nodes run as leader/follower pairs");
    return { nodes };
  },
  rf: (given, context) => {
    const nodes = earlier(context, "nodes");
    const rf = integer("rf", given ?? DEFAULTS.rf, 1, nodes, "replication factor, at most the number of nodes");
    if (nodes % rf !== 0) {
      throw new InvalidOptionError("rf", rf, `must divide nodes=${nodes}: a mirrored placement groups nodes into shard sets of exactly rf replicas`);
    }
    return { rf };
  },
  numShards: (given, context) => {
    const shardSets = earlier(context, "nodes") / earlier(context, "rf");
    return { numShards: integer("numShards", given ?? DEFAULTS.numShards, shardSets, MAX_SHARDS, `at least one shard per shard set (nodes/rf=${shardSets})`) };
  },
  isolationGroups: (given, context) => {
    const rf = earlier(context, "rf");
    return { isolationGroups: integer("isolationGroups", given ?? rf, rf, earlier(context, "nodes"), `the ${rf} replicas of a shard set need ${rf} different isolation groups`) };
  },
  basePort: (given, context) => {
    if (given === undefined) return { basePort: undefined };
    const nodes = earlier(context, "nodes");
    const highest = 10 * (nodes - 1) + 3;
    return { basePort: integer("basePort", given, 1024, 65535 - highest, `node ${nodes} listens on basePort+${highest}`) };
  },
  host: (given) => {
    const host = given ?? LOOPBACK;
    if (typeof host !== "string" || !/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host) || host === "0.0.0.0") {
      throw new InvalidOptionError("host", host, "must be an IPv4 address the test process can dial (e.g. 127.0.0.1), not a name or 0.0.0.0");
    }
    return { host };
  },
  coordinatorPort: (given) => ({ coordinatorPort: given === undefined ? undefined : integer("coordinatorPort", given, 1024, 65535, "a TCP port") }),
  etcdPort: (given) => ({ etcdPort: given === undefined ? undefined : integer("etcdPort", given, 1024, 65534, "a TCP port; etcd's peer port is any free port") }),
  images: (given, { env }) => {
    const images: Partial<ImageNames> = {};
    for (const [component, image] of Object.entries(given ?? {})) {
      if (!IMAGE_COMPONENTS.includes(component as ImageComponent)) {
        throw new InvalidOptionError(`images.${component}`, image, `components are ${IMAGE_COMPONENTS.join(", ")}`);
      }
      if (typeof image !== "string" || image.trim() === "" || /\s/.test(image)) {
        throw new InvalidOptionError(`images.${component}`, image, "must be a non-empty image reference without spaces");
      }
      images[component as ImageComponent] = image;
    }
    const imageMode = oneOf("M3AGG_IMAGES", env.imageMode ?? "auto", IMAGE_MODES);
    return { images, imagesFromEnv: env.images, imageMode };
  },
  clusterId: (given) => {
    const clusterId = given ?? randomClusterId();
    if (typeof clusterId !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(clusterId)) {
      throw new InvalidOptionError("clusterId", clusterId, "must be 1–63 letters, digits, '-' or '_', starting with a letter or digit");
    }
    return { clusterId };
  },
  configOverrides: (given) => {
    const overrides = given ?? {};
    for (const [key, value] of Object.entries(overrides)) {
      if (key !== "aggregator" && key !== "coordinator") {
        throw new InvalidOptionError(`configOverrides.${key}`, value, "only aggregator and coordinator configs can be overridden");
      }
      if (value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))) {
        throw new InvalidOptionError(`configOverrides.${key}`, value, "must be an object of YAML keys");
      }
    }
    return { configOverrides: { aggregator: overrides.aggregator ?? {}, coordinator: overrides.coordinator ?? {} } };
  },
  debug: (given, context) => {
    if (given === undefined || given === false) return { debug: undefined };
    const nodes = earlier(context, "nodes");
    const options: DebugOptions = given === true ? {} : given;
    if (typeof options !== "object" || options === null) throw new InvalidOptionError("debug", given, "must be true, false or { basePort?, waitForDebugger? }");
    const debug = {
      basePort: options.basePort === undefined ? undefined
        : integer("debug.basePort", options.basePort, 1024, 65535 - (nodes - 1), `node ${nodes} listens on basePort+${nodes - 1}`),
      waitForDebugger: options.waitForDebugger ?? false,
    };
    if (typeof debug.waitForDebugger !== "boolean") throw new InvalidOptionError("debug.waitForDebugger", options.waitForDebugger, "must be true or false");
    return { debug };
  },
  m3Source: (given, { env }) => {
    const source = given ?? env.m3Source;
    return { m3Source: source === undefined ? undefined : m3SourceDir(source) };
  },
  m3Version: (given, context) => {
    const versionGiven = given ?? context.env.m3Version;
    const m3Source = earlier(context, "m3Source");
    return {
      m3Version: versionGiven === undefined
        ? (m3Source === undefined ? defaultM3Version() : profileOfSource(m3Source))
        : oneOf(given === undefined ? "m3Version (M3AGG_M3_VERSION)" : "m3Version", versionGiven, supportedM3Versions()),
    };
  },
  tls: (given, context) => ({ tls: tlsSettings(given, earlier(context, "m3Version"), context.env) }),
  reuse: (given, { env }) => {
    const reuse = given ?? env.reuse;
    if (typeof reuse !== "boolean") throw new InvalidOptionError("reuse", reuse, "must be true or false");
    return {}; // applied last: the reuse key hashes every other resolved option
  },
  electionTtlSeconds: (given) => ({
    electionTtlSeconds: integer("electionTtlSeconds", given ?? DEFAULTS.electionTtlSeconds, 2, 300, "etcd lease TTL of the leader election, in seconds"),
  }),
  backend: (given) => ({ backend: oneOf("backend", given ?? DEFAULTS.backend, BACKENDS) }),
  logLevel: (given) => ({ logLevel: oneOf("logLevel", given ?? DEFAULTS.logLevel, LOG_LEVELS) }),
  startTimeoutMs: (given) => ({ startTimeoutMs: integer("startTimeoutMs", given ?? DEFAULTS.startTimeoutMs, 1_000, 3_600_000, "milliseconds for the whole start") }),
  onProgress: (given) => ({ onProgress: typeof given === "function" ? given : undefined }),
  faults: (given, context) => {
    const faults = given ?? false;
    if (typeof faults !== "boolean") throw new InvalidOptionError("faults", faults, "must be true or false");
    const host = earlier(context, "host");
    if (faults && !host.startsWith("127.")) {
      throw new InvalidOptionError("faults", faults, `needs a loopback host (127.0.0.0/8), not host=${host}: each node's flush proxy listens on its own 127.0.1.<n> address`);
    }
    return { faults };
  },
  target: (given, context) => {
    const target = resolveTarget(given);
    if (target.kind !== "docker") checkNamedModel(context.options, target, earlier(context, "clusterId"));
    return { target, network: target.kind === "docker" ? { model: "loopback" } : { model: "named", dns: target.kind } };
  },
} satisfies { [K in keyof Required<M3AggregatorClusterOptions>]: OptionRule<K> };

/** Every option's name (the table's keys). */
export const KNOWN_OPTIONS: ReadonlyArray<keyof M3AggregatorClusterOptions> = Object.keys(OPTION_RULES) as Array<keyof M3AggregatorClusterOptions>;

/**
 * Applies defaults and checks every rule; throws {@link InvalidOptionError} on the first bad value.
 * Synchronous, and nothing is started before it passes. `env`: the environment to read (once).
 */
export function resolveOptions(options: M3AggregatorClusterOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedClusterOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError("options", options, "must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!(KNOWN_OPTIONS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(key, (options as Record<string, unknown>)[key], `is not an option (known: ${KNOWN_OPTIONS.join(", ")})`);
    }
  }
  const context: RuleContext = { resolved: { reuseKey: undefined }, options, env: readClusterEnvironment(env) };
  for (const key of KNOWN_OPTIONS) {
    const rule = OPTION_RULES[key] as OptionRule<typeof key>;
    Object.assign(context.resolved, rule(options[key], context));
  }
  const resolved = context.resolved as ResolvedClusterOptions;
  // Reuse keeps a cluster of this engine between runs; a named target refuses the option (M3AGG_REUSE does not apply).
  if ((options.reuse ?? context.env.reuse) && resolved.target.kind === "docker") {
    if (options.clusterId !== undefined) {
      throw new InvalidOptionError("clusterId", options.clusterId, "cannot be set with reuse: the id is derived from the options");
    }
    if (resolved.backend === "sink") {
      throw new InvalidOptionError("backend", "sink", "cannot be used with reuse: the sink lives in the process that starts the cluster, " +
        "and a kept cluster outlives that process (its aggregators would flush to nobody); use backend \"logging\" or \"blackhole\" with reuse, or reuse: false");
    }
    resolved.reuseKey = reuseKeyOf(resolved);
    resolved.clusterId = `reuse-${resolved.reuseKey}`;
  }
  return resolved;
}

/**
 * Hash of everything that makes two clusters interchangeable: every resolved option, the images and
 * image mode the environment chose included, but not the id, the timeout or the progress callback.
 */
export function reuseKeyOf(options: ResolvedClusterOptions): string {
  const { clusterId: _id, reuseKey: _key, startTimeoutMs: _timeout, onProgress: _progress, ...defining } = options;
  return createHash("sha256").update(JSON.stringify(defining)).digest("hex").slice(0, 12);
}
