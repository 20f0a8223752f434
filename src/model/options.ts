/**
 * The options of a cluster, as users give them and as the rest of the package reads them
 * after defaults (cluster/options.ts resolves one into the other).
 */
import type { ImageNames } from "./components";
import type { ProgressEvent } from "./phases";
import type { TlsOption, TlsSettings } from "./tls";
import type { M3Version } from "./versions";

/**
 * Where the aggregators flush aggregated metrics: "blackhole" (discard, the seed's), "logging" (one
 * log line per datapoint), or "sink" (m3msg to the fixture's in-process consumer, `cluster.sink`).
 */
export type FlushBackend = "blackhole" | "logging" | "sink";

/** Where images not named by an option or env var come from (M3AGG_IMAGES): see README "Images". */
export type ImageMode = "auto" | "local" | "official";

/** m3's log levels (zap). */
export type LogLevel = "debug" | "info" | "warn" | "error";

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
  /** Images named by the `images` option. */
  images: Partial<ImageNames>;
  /** Images named by env vars (M3AGG_AGGREGATOR_IMAGE, …), read when the options were resolved. */
  imagesFromEnv: Partial<ImageNames>;
  /** Where the other images come from (M3AGG_IMAGES, default "auto"). */
  imageMode: ImageMode;
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

