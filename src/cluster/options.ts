/**
 * Cluster options, their defaults, and the validation that runs before any
 * container starts. Every rule here mirrors what m3's mirrored aggregator
 * placement accepts, so a bad topology fails in milliseconds instead of as an
 * HTTP 500 from the coordinator a minute later.
 */

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { defaultM3Version, type M3Version, profileOfSource, supportedM3Versions, versionProfile } from "../m3/versions";
import type { TlsMode, TlsOption, TlsSettings } from "../tls/settings";

/** Which DNS the names of the `named` network model are for (cluster/network.ts). */
export type NamedDns = "kubernetes" | "swarm";

/** The network model of a plan: see cluster/network.ts. */
export type NetworkOption = { model: "loopback" } | { model: "named"; dns: NamedDns };

/** A DNS label (RFC 1123): what a Kubernetes namespace, a Swarm stack and a service name must be. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Where the aggregators flush aggregated metrics: "blackhole" (discard, the seed's), "logging" (one
 * log line per datapoint), or "sink" (m3msg to the fixture's in-process consumer, `cluster.sink`).
 */
export type FlushBackend = "blackhole" | "logging" | "sink";

/** m3's log levels (zap). */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Image names of the three components; see README "Images". */
export interface ImageNames {
  m3aggregator: string;
  m3coordinator: string;
  etcd: string;
  /** Debug build of m3aggregator (-N -l) with delve at /bin/dlv; used only with the `debug` option. */
  m3aggregatorDebug?: string;
}

/** Debug mode: every aggregator runs under a headless delve. */
export interface DebugOptions {
  /** Node i (1-based) gets debug port basePort+i-1 (the seed's 40000, 40001, …). Default: free ports. */
  basePort?: number;
  /**
   * true: each node waits, stopped before main, until a debugger continues it; start() then
   * returns once every delve answers (nodes are not healthy yet). false (default): run at once.
   */
  waitForDebugger?: boolean;
}

/** Docker Swarm: the engines of one swarm, by Docker host (`unix:///…`, `tcp://…`). */
export interface SwarmTargetOptions {
  /** The first is a manager; images are loaded onto each one without a registry. Default: the engine of DOCKER_HOST. */
  engines?: string[];
  /**
   * Engines in network namespaces of this machine (scripts/swarm-engines.sh): per engine the unix
   * socket of its relay, through which this process reaches the engine's published ports, and the
   * socket the relays forward the containers' sink connections to.
   */
  relays?: { engines: string[]; sink: string };
}

/** Kubernetes: the cluster to apply to and the registry its nodes pull the images from. */
export interface KubernetesTargetOptions {
  /** Kubeconfig file (default: KUBECONFIG, then ~/.kube/config). */
  kubeconfig?: string;
  /** Context of the kubeconfig (default: its current context). */
  context?: string;
  /** Registry the images were pushed to (`m3agg images --push REGISTRY`); the manifests name images there. */
  registry?: string;
}

/**
 * Where the cluster runs: "docker" (default: one engine, host network, loopback ports),
 * `{ swarm }` (a Docker Swarm across engines) or `{ kubernetes }`. Swarm and Kubernetes use
 * the named network model (fixed ports, DNS names).
 */
export type TargetOption = "docker" | { swarm: SwarmTargetOptions } | { kubernetes: KubernetesTargetOptions };

/** The target after validation. */
export type ResolvedTarget =
  | { kind: "docker" }
  | { kind: "swarm"; engines: string[]; relays: { engines: string[]; sink: string } | undefined }
  | { kind: "kubernetes"; kubeconfig: string | undefined; context: string | undefined; registry: string | undefined };

/** Options of {@link M3AggregatorCluster.start}. Every field is optional. */
export interface M3AggregatorClusterOptions {
  /** Number of m3aggregator nodes: even, at least 2. Default 4. */
  nodes?: number;
  /** Replication factor: replicas per shard set (leader + followers). 1 ≤ rf ≤ nodes, nodes % rf = 0. Default 2. */
  rf?: number;
  /** Shards of the aggregator placement: at least one per shard set, at most 4096. Default 64 (the seed's). */
  numShards?: number;
  /**
   * Isolation groups to spread the nodes over (node i goes to group i mod n).
   * Replicas of a shard set must sit in different groups, so rf ≤ n ≤ nodes. Default rf.
   */
  isolationGroups?: number;
  /**
   * Seed layout: node i (1-based) listens on HTTP base+1+10(i-1), metrics +2, raw TCP +3.
   * Without it every port comes from the allocator (outside the ephemeral range, reserved across processes).
   */
  basePort?: number;
  /**
   * Address every listener binds and every client dials (placement endpoints, URLs, the sink).
   * Default 127.0.0.1: nothing is reachable from other machines. Another loopback address
   * (127.0.0.2, …) separates clusters further; with a remote DOCKER_HOST, give the engine host's
   * address that the test process can reach (the port checks then only see this machine).
   */
  host?: string;
  /** Coordinator admin API port. Default: 7201 when basePort is set and 7201 is free, else any free port. */
  coordinatorPort?: number;
  /** etcd client port. Default: 2379 when basePort is set and 2379 is free, else any free port. */
  etcdPort?: number;
  /** Image names; unset ones come from env vars, then local builds, then the official images. */
  images?: Partial<ImageNames>;
  /** etcd session TTL of the leader election: a dead leader is replaced within it. 2–300 s, default 10 (m3's shipped value). */
  electionTtlSeconds?: number;
  /** Flush backend of the aggregators. Default "blackhole" (the seed's). */
  backend?: FlushBackend;
  /** Log level of etcd, coordinator and aggregators. Default "info". */
  logLevel?: LogLevel;
  /** Time allowed for the whole start, ready included. Default 180 000 ms. */
  startTimeoutMs?: number;
  /** A name for labels, logs and errors. Default: a random id. Letters, digits, '-', '_' only. */
  clusterId?: string;
  /**
   * Run every aggregator under a headless delve (JSON-RPC API v2, multi-client) on its own debug
   * port, from the debug image (`npm run images -- --with-debug`). `true` = defaults.
   */
  debug?: boolean | DebugOptions;
  /**
   * Keep the cluster running between test runs: start() attaches to a running cluster started
   * with the same options (any process), else starts one; stop() then leaves it running
   * (`stop({ remove: true })` or `m3agg down` removes it). Default false, or M3AGG_REUSE=true.
   */
  reuse?: boolean;
  /**
   * The m3 release to run: "v1.6.0" (default) or "v1.5.0" (what many production fleets run).
   * Env M3AGG_M3_VERSION. With `m3Source`, the version whose configs and wire format the tree
   * follows (default: detected from the tree).
   */
  m3Version?: M3Version;
  /**
   * A local m3 checkout (any revision that builds with the local Go; env M3_SOURCE_DIR):
   * start() builds m3aggregator and m3coordinator from it (and the debug image in debug mode)
   * into images tagged by the tree's content, so an unchanged tree is never rebuilt.
   */
  m3Source?: string;
  /**
   * TLS on the aggregators' raw TCP ingest (m3 v1.6.0 and later). Default, like m3's own dev
   * environment: "permissive" with mTLS (plaintext and TLS clients both accepted; TLS clients
   * must present a client certificate). `false` or env DISABLE_TLS=true turns it off;
   * "enforced" refuses plaintext. The fixture generates a CA, server and client certificate
   * per cluster: see `cluster.tls`.
   */
  tls?: TlsOption;
  /** Called when each start phase begins and ends (the CLI prints these as progress). */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Extra YAML merged into the rendered configs (objects merge, everything else replaces),
   * e.g. `{ aggregator: { aggregator: { entryTTL: "10m" } } }`.
   */
  configOverrides?: { aggregator?: Record<string, unknown>; coordinator?: Record<string, unknown> };
  /** Where the cluster runs (see {@link TargetOption}). Default "docker". */
  target?: TargetOption;
}

/** A start phase began or ended. */
export interface ProgressEvent {
  phase: string;
  state: "begin" | "end" | "failed" | "progress";
  /** Milliseconds the phase took (end/failed). */
  ms?: number;
  /** What is going on within a long phase (state "progress"), e.g. a source build step. */
  detail?: string;
}

/** Options after defaults, as the rest of the package uses them. */
export interface ResolvedClusterOptions {
  nodes: number;
  rf: number;
  numShards: number;
  isolationGroups: number;
  basePort: number | undefined;
  host: string;
  coordinatorPort: number | undefined;
  etcdPort: number | undefined;
  images: Partial<ImageNames>;
  electionTtlSeconds: number;
  backend: FlushBackend;
  logLevel: LogLevel;
  startTimeoutMs: number;
  clusterId: string;
  /** Debug mode, or undefined. */
  debug: { basePort: number | undefined; waitForDebugger: boolean } | undefined;
  m3Version: M3Version;
  /** Absolute path of the m3 checkout to build from, or undefined for release images. */
  m3Source: string | undefined;
  /** Raw TCP TLS, or undefined when off. */
  tls: TlsSettings | undefined;
  /** Set in reuse mode: hash of the options that define the cluster. */
  reuseKey: string | undefined;
  onProgress: ((event: ProgressEvent) => void) | undefined;
  configOverrides: { aggregator: Record<string, unknown>; coordinator: Record<string, unknown> };
  /** Where the cluster runs. */
  target: ResolvedTarget;
  /** How its containers reach each other: `loopback` for docker, `named` for swarm and kubernetes. */
  network: NetworkOption;
}

/** A bad option: names the option, the value given and the rule it breaks. */
export class InvalidOptionError extends Error {
  override readonly name = "InvalidOptionError";
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`invalid option ${option}=${JSON.stringify(value)}: ${rule}`);
  }
}

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
const KNOWN_OPTIONS = new Set([
  "nodes", "rf", "numShards", "isolationGroups", "basePort", "host", "coordinatorPort", "etcdPort",
  "images", "electionTtlSeconds", "backend", "logLevel", "startTimeoutMs", "clusterId", "debug", "reuse", "onProgress", "configOverrides",
  "m3Version", "m3Source", "tls", "target",
]);
const TLS_MODES: readonly TlsMode[] = ["permissive", "enforced"];
const truthyEnv = (value: string | undefined): boolean => /^(1|true|yes)$/i.test(value ?? "");

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
function tlsSettings(value: TlsOption | undefined, version: M3Version, env: NodeJS.ProcessEnv): TlsSettings | undefined {
  const supported = versionProfile(version).supportsTls;
  if (value === undefined) return supported && !truthyEnv(env.DISABLE_TLS) ? { mode: "permissive", mutualTls: true } : undefined;
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
  const loopbackOnly = ["basePort", "host", "coordinatorPort", "etcdPort", "debug", "reuse", "m3Source"] as const;
  for (const key of loopbackOnly) {
    const given = options[key];
    if (given !== undefined && given !== false) {
      throw new InvalidOptionError(key, given, `applies to target "docker" only: on ${target.kind} ports are fixed and addresses are DNS names (the named network model)`);
    }
  }
  if (!DNS_LABEL.test(clusterId) || clusterId.length > 40) {
    throw new InvalidOptionError("clusterId", clusterId, `on ${target.kind} it names a ${target.kind === "kubernetes" ? "namespace" : "stack"}: 1–40 lowercase letters, digits or '-', starting and ending with a letter or digit`);
  }
}

/**
 * Applies defaults and checks every rule; throws {@link InvalidOptionError} on the first bad value.
 * Pure and synchronous: nothing is started before it passes.
 */
export function resolveOptions(options: M3AggregatorClusterOptions = {}): ResolvedClusterOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError("options", options, "must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new InvalidOptionError(key, (options as Record<string, unknown>)[key],
        `is not an option (known: ${[...KNOWN_OPTIONS].join(", ")})`);
    }
  }

  const nodes = integer("nodes", options.nodes ?? DEFAULTS.nodes, 2, 64, "number of aggregator nodes");
  if (nodes % 2 !== 0) {
    throw new InvalidOptionError("nodes", nodes, "must be even: aggregator nodes run as leader/follower pairs");
  }
  const rf = integer("rf", options.rf ?? DEFAULTS.rf, 1, nodes, "replication factor, at most the number of nodes");
  if (nodes % rf !== 0) {
    throw new InvalidOptionError("rf", rf,
      `must divide nodes=${nodes}: a mirrored placement groups nodes into shard sets of exactly rf replicas`);
  }
  const shardSets = nodes / rf;
  const numShards = integer("numShards", options.numShards ?? DEFAULTS.numShards, shardSets, MAX_SHARDS,
    `at least one shard per shard set (nodes/rf=${shardSets})`);
  const isolationGroups = integer("isolationGroups", options.isolationGroups ?? rf, rf, nodes,
    `the ${rf} replicas of a shard set need ${rf} different isolation groups`);

  let basePort: number | undefined;
  if (options.basePort !== undefined) {
    const highest = 10 * (nodes - 1) + 3;
    basePort = integer("basePort", options.basePort, 1024, 65535 - highest,
      `node ${nodes} listens on basePort+${highest}`);
  }
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || !/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host) || host === "0.0.0.0") {
    throw new InvalidOptionError("host", host, "must be an IPv4 address the test process can dial (e.g. 127.0.0.1), not a name or 0.0.0.0");
  }
  const coordinatorPort = options.coordinatorPort === undefined ? undefined
    : integer("coordinatorPort", options.coordinatorPort, 1024, 65535, "a TCP port");
  const etcdPort = options.etcdPort === undefined ? undefined
    : integer("etcdPort", options.etcdPort, 1024, 65534, "a TCP port; etcd's peer port is any free port");

  const images: Partial<ImageNames> = {};
  for (const [component, image] of Object.entries(options.images ?? {})) {
    if (!["m3aggregator", "m3coordinator", "etcd", "m3aggregatorDebug"].includes(component)) {
      throw new InvalidOptionError(`images.${component}`, image, "components are m3aggregator, m3coordinator, etcd, m3aggregatorDebug");
    }
    if (typeof image !== "string" || image.trim() === "" || /\s/.test(image)) {
      throw new InvalidOptionError(`images.${component}`, image, "must be a non-empty image reference without spaces");
    }
    images[component as keyof ImageNames] = image;
  }

  const clusterId = options.clusterId ?? randomClusterId();
  if (typeof clusterId !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(clusterId)) {
    throw new InvalidOptionError("clusterId", clusterId,
      "must be 1–63 letters, digits, '-' or '_', starting with a letter or digit");
  }

  const target = resolveTarget(options.target);
  if (target.kind !== "docker") checkNamedModel(options, target, clusterId);

  const overrides = options.configOverrides ?? {};
  for (const [key, value] of Object.entries(overrides)) {
    if (key !== "aggregator" && key !== "coordinator") {
      throw new InvalidOptionError(`configOverrides.${key}`, value, "only aggregator and coordinator configs can be overridden");
    }
    if (value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))) {
      throw new InvalidOptionError(`configOverrides.${key}`, value, "must be an object of YAML keys");
    }
  }

  let debug: ResolvedClusterOptions["debug"];
  if (options.debug !== undefined && options.debug !== false) {
    const given: DebugOptions = options.debug === true ? {} : options.debug;
    if (typeof given !== "object" || given === null) throw new InvalidOptionError("debug", options.debug, "must be true, false or { basePort?, waitForDebugger? }");
    debug = {
      basePort: given.basePort === undefined ? undefined
        : integer("debug.basePort", given.basePort, 1024, 65535 - (nodes - 1), `node ${nodes} listens on basePort+${nodes - 1}`),
      waitForDebugger: given.waitForDebugger ?? false,
    };
    if (typeof debug.waitForDebugger !== "boolean") throw new InvalidOptionError("debug.waitForDebugger", given.waitForDebugger, "must be true or false");
  }

  const m3Source = (options.m3Source ?? (process.env.M3_SOURCE_DIR || undefined)) === undefined ? undefined
    : m3SourceDir(options.m3Source ?? process.env.M3_SOURCE_DIR);
  const versionGiven = options.m3Version ?? (process.env.M3AGG_M3_VERSION || undefined);
  const m3Version = versionGiven === undefined
    ? (m3Source === undefined ? defaultM3Version() : profileOfSource(m3Source))
    : oneOf(options.m3Version === undefined ? "m3Version (M3AGG_M3_VERSION)" : "m3Version", versionGiven, supportedM3Versions());
  const tls = tlsSettings(options.tls, m3Version, process.env);

  const reuse = options.reuse ?? process.env.M3AGG_REUSE === "true";
  if (typeof reuse !== "boolean") throw new InvalidOptionError("reuse", reuse, "must be true or false");

  const resolved: ResolvedClusterOptions = {
    nodes,
    rf,
    numShards,
    isolationGroups,
    basePort,
    host,
    coordinatorPort,
    etcdPort,
    images,
    electionTtlSeconds: integer("electionTtlSeconds", options.electionTtlSeconds ?? DEFAULTS.electionTtlSeconds,
      2, 300, "etcd lease TTL of the leader election, in seconds"),
    backend: oneOf("backend", options.backend ?? DEFAULTS.backend, BACKENDS),
    logLevel: oneOf("logLevel", options.logLevel ?? DEFAULTS.logLevel, LOG_LEVELS),
    startTimeoutMs: integer("startTimeoutMs", options.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
      1_000, 3_600_000, "milliseconds for the whole start"),
    clusterId,
    debug,
    m3Version,
    m3Source,
    tls,
    reuseKey: undefined,
    onProgress: typeof options.onProgress === "function" ? options.onProgress : undefined,
    configOverrides: { aggregator: overrides.aggregator ?? {}, coordinator: overrides.coordinator ?? {} },
    target,
    network: target.kind === "docker" ? { model: "loopback" } : { model: "named", dns: target.kind },
  };
  if (reuse) {
    if (options.clusterId !== undefined) {
      throw new InvalidOptionError("clusterId", options.clusterId, "cannot be set with reuse: the id is derived from the options");
    }
    resolved.reuseKey = reuseKeyOf(resolved);
    resolved.clusterId = `reuse-${resolved.reuseKey}`;
  }
  return resolved;
}

/** Hash of everything that makes two clusters interchangeable (not ids, not timeouts). */
export function reuseKeyOf(options: ResolvedClusterOptions): string {
  const { clusterId: _id, reuseKey: _key, startTimeoutMs: _timeout, onProgress: _progress, ...defining } = options;
  return createHash("sha256").update(JSON.stringify(defining)).digest("hex").slice(0, 12);
}
