/**
 * The ingest client's options: defaults and validation, like the cluster's
 * (a bad value throws {@link InvalidClientOptionError} naming the option, the
 * value and the rule, before any connection is made).
 */
import type * as tls from "node:tls";
import type * as net from "node:net";
import type { M3Version } from "../model/versions";
import type { ConnectionOptions } from "./connection";
import { m3VersionOf } from "./encoder";
import { DEFAULT_SHARD_CUTOFF_LINGER_MS, DEFAULT_SHARD_CUTOVER_WARMUP_MS } from "./router";
import { InvalidMetricError } from "./policy";

/** A bad client option: names the option, the value and the rule. */
export class InvalidClientOptionError extends Error {
  override readonly name = "InvalidClientOptionError";
  constructor(readonly option: string, readonly value: unknown, readonly rule: string) {
    super(`invalid client option ${option}=${typeof value === "function" ? "[function]" : JSON.stringify(value)}: ${rule}`);
  }
}

export interface IngestClientOptions {
  /** Persistent connections per endpoint (metrics are spread by shard). Default 1; 1..64. */
  connectionsPerEndpoint?: number;
  /**
   * Wire version of the frames. Default: the source's `getM3Version()` (a started cluster's), else "v1.6.0".
   * Frames of either version decode in both m3 versions (unknown fields are skipped).
   */
  m3Version?: M3Version;
  /**
   * TLS for the raw TCP connections. Default: the source's `tls.clientOptions()` when it has one
   * (a cluster started with TLS), else plaintext. `false` forces plaintext (m3's `permissive` mode
   * accepts it). With TLS the first byte on the wire is the handshake's 0x16, as m3 expects.
   */
  tls?: tls.ConnectionOptions | false;
  /** Hand a batch to the socket once it holds this many bytes. Default 64 KiB; 1 KiB..8 MiB. */
  batchBytes?: number;
  /** …or after this many ms. Default 5; 1..10000. */
  flushIntervalMs?: number;
  /** One dial's timeout. Default 5000; 1..600000. */
  connectTimeoutMs?: number;
  /** First redial delay (doubles up to maxReconnectDelayMs). Default 50; 1..60000. */
  reconnectDelayMs?: number;
  /** Redial delay cap. Default 2000; >= reconnectDelayMs, <= 600000. */
  maxReconnectDelayMs?: number;
  /** A socket that does not drain for this long is dropped (its unwritten frames lost). Default 5000; 10..600000. */
  writeTimeoutMs?: number;
  /** Bytes held per connection while its endpoint cannot take them; beyond, the oldest are lost. Default 8 MiB; >= batchBytes, <= 1 GiB. */
  maxQueueBytes?: number;
  /** Default timeout of close(). Default 10000; 1..3600000. */
  closeTimeoutMs?: number;
  /** flush() and close() reject with a {@link DeliveryError} when anything was lost or dropped. Default false. */
  strict?: boolean;
  /**
   * Follow the placement of the source (a started cluster): poll it and route by the newest one.
   * Default: true when the source is a cluster (has `placement()`), false for a fixed placement.
   * `{ intervalMs }`: poll period (default 250; 20..60000).
   */
  followPlacement?: boolean | { intervalMs?: number };
  /** Write to a shard's new owner from this long before its cutover. Default m3's 10 min. */
  shardCutoverWarmupMs?: number;
  /** Keep writing to a shard's old owner for this long after its cutoff. Default m3's 1 h. */
  shardCutoffLingerMs?: number;
  /** Largest frame payload; a bigger metric throws InvalidMetricError before sending. Default 50,000,000 (see README). */
  maxMessageBytes?: number;
  /** How sockets are made (tests). Default net.connect / tls.connect. */
  connect?: (host: string, port: number) => net.Socket;
  /**
   * Where to dial a placement endpoint (`host:port` → `host:port`): the dial map of a cluster whose
   * endpoints are DNS names of its engine (swarm, kubernetes). Default: the source's `dialAddress`, else as is.
   */
  dial?: (endpoint: string) => string;
}

/**
 * The largest frame payload the client sends. m3's raw TCP decoder refuses a larger size
 * (`unaggregated_iterator.go`: "decoded message size N is larger than supported max message size")
 * and closes the connection. m3's own default is 50 MiB (`defaultMaxUnaggregatedMessageSize =
 * 50 * 1024 * 1024` = 52,428,800 in `unaggregated_options.go`); the fixture's aggregators are configured
 * with `rawtcp.protobufIterator.maxMessageSize: 50000000`, the lower of the two, so that is the default.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 50_000_000;

/** Settings each endpoint connection takes as they are (documented on {@link ConnectionOptions}). */
type ConnectionTuning = Pick<ConnectionOptions, "m3Version" | "batchBytes" | "flushIntervalMs" | "connectTimeoutMs"
  | "reconnectDelayMs" | "maxReconnectDelayMs" | "writeTimeoutMs" | "maxQueueBytes">;

export interface ResolvedClientOptions extends ConnectionTuning {
  connectionsPerEndpoint: number;
  tls: tls.ConnectionOptions | undefined;
  closeTimeoutMs: number;
  strict: boolean;
  follow: { intervalMs: number } | undefined;
  shardCutoverWarmupMs: number;
  shardCutoffLingerMs: number;
  maxMessageBytes: number;
  connect: ((host: string, port: number) => net.Socket) | undefined;
  dial: (endpoint: string) => string;
}

const KNOWN = new Set([
  "connectionsPerEndpoint", "m3Version", "tls", "batchBytes", "flushIntervalMs", "connectTimeoutMs", "reconnectDelayMs",
  "maxReconnectDelayMs", "writeTimeoutMs", "maxQueueBytes", "closeTimeoutMs", "strict", "followPlacement",
  "shardCutoverWarmupMs", "shardCutoffLingerMs", "maxMessageBytes", "connect", "dial",
]);

function int(options: IngestClientOptions, option: keyof IngestClientOptions, fallback: number, min: number, max: number): number {
  const value = options[option];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidClientOptionError(option, value, `must be a whole number in ${min}..${max}`);
  }
  return value;
}

/** Validates and completes the options; `followDefault` says whether the source can be followed. */
export function resolveClientOptions(options: IngestClientOptions, followDefault: boolean): ResolvedClientOptions {
  if (options === null || typeof options !== "object") throw new InvalidClientOptionError("options", options, "must be an object");
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidClientOptionError(key, (options as Record<string, unknown>)[key], `is not a client option (known: ${[...KNOWN].join(", ")})`);
  }
  let m3Version: M3Version;
  try {
    m3Version = m3VersionOf(options.m3Version);
  } catch (error) {
    if (error instanceof InvalidMetricError) throw new InvalidClientOptionError("m3Version", options.m3Version, error.rule);
    throw error;
  }
  const t = options.tls;
  if (t !== undefined && t !== false && (t === null || typeof t !== "object")) {
    throw new InvalidClientOptionError("tls", t, "must be false or node:tls ConnectionOptions");
  }
  const batchBytes = int(options, "batchBytes", 64 * 1024, 1024, 8 * 1024 * 1024);
  const reconnectDelayMs = int(options, "reconnectDelayMs", 50, 1, 60_000);
  const maxReconnectDelayMs = int(options, "maxReconnectDelayMs", Math.max(2_000, reconnectDelayMs), reconnectDelayMs, 600_000);
  let follow: { intervalMs: number } | undefined;
  const f = options.followPlacement;
  if (f === undefined) follow = followDefault ? { intervalMs: 250 } : undefined;
  else if (f === false) follow = undefined;
  else if (f === true || (typeof f === "object" && f !== null)) {
    const intervalMs = f === true ? 250 : f.intervalMs ?? 250;
    if (typeof intervalMs !== "number" || !Number.isInteger(intervalMs) || intervalMs < 20 || intervalMs > 60_000) {
      throw new InvalidClientOptionError("followPlacement.intervalMs", intervalMs, "must be a whole number of ms in 20..60000");
    }
    if (!followDefault) throw new InvalidClientOptionError("followPlacement", f, "needs a source with placement() (a started cluster), not a fixed placement");
    follow = { intervalMs };
  } else throw new InvalidClientOptionError("followPlacement", f, "must be true, false or { intervalMs }");
  if (options.strict !== undefined && typeof options.strict !== "boolean") throw new InvalidClientOptionError("strict", options.strict, "must be true or false");
  if (options.connect !== undefined && typeof options.connect !== "function") throw new InvalidClientOptionError("connect", options.connect, "must be a function (host, port) => net.Socket");
  if (options.dial !== undefined && typeof options.dial !== "function") throw new InvalidClientOptionError("dial", options.dial, "must be a function (endpoint) => host:port");
  return {
    connectionsPerEndpoint: int(options, "connectionsPerEndpoint", 1, 1, 64),
    m3Version,
    tls: t === false || t === undefined ? undefined : t,
    batchBytes,
    flushIntervalMs: int(options, "flushIntervalMs", 5, 1, 10_000),
    connectTimeoutMs: int(options, "connectTimeoutMs", 5_000, 1, 600_000),
    reconnectDelayMs,
    maxReconnectDelayMs,
    writeTimeoutMs: int(options, "writeTimeoutMs", 5_000, 10, 600_000),
    maxQueueBytes: int(options, "maxQueueBytes", Math.max(8 * 1024 * 1024, batchBytes), batchBytes, 1024 * 1024 * 1024),
    closeTimeoutMs: int(options, "closeTimeoutMs", 10_000, 1, 3_600_000),
    strict: options.strict ?? false,
    follow,
    shardCutoverWarmupMs: int(options, "shardCutoverWarmupMs", DEFAULT_SHARD_CUTOVER_WARMUP_MS, 0, 24 * 3_600_000),
    shardCutoffLingerMs: int(options, "shardCutoffLingerMs", DEFAULT_SHARD_CUTOFF_LINGER_MS, 0, 24 * 3_600_000),
    maxMessageBytes: int(options, "maxMessageBytes", DEFAULT_MAX_MESSAGE_BYTES, 64, 52_428_800),
    connect: options.connect,
    dial: options.dial ?? ((endpoint: string) => endpoint),
  };
}
