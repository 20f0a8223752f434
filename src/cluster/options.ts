/**
 * Cluster options, their defaults, and the validation that runs before any
 * container starts. Every rule here mirrors what m3's mirrored aggregator
 * placement accepts, so a bad topology fails in milliseconds instead of as an
 * HTTP 500 from the coordinator a minute later.
 */

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { defaultM3Version, type M3Version, profileOfSource, supportedM3Versions, versionProfile } from "../model/versions";
import type { TlsMode, TlsOption, TlsSettings } from "../model/tls";
import type { ImageNames } from "../model/components";
import { LOOPBACK } from "../model/network";
import {
  type DebugOptions, type FlushBackend, InvalidOptionError, type LogLevel, type M3AggregatorClusterOptions, type ResolvedClusterOptions,
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
const KNOWN_OPTIONS = new Set([
  "nodes", "rf", "numShards", "isolationGroups", "basePort", "host", "coordinatorPort", "etcdPort",
  "images", "electionTtlSeconds", "backend", "logLevel", "startTimeoutMs", "clusterId", "debug", "reuse", "onProgress", "configOverrides",
  "m3Version", "m3Source", "tls",
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
  const host = options.host ?? LOOPBACK;
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
