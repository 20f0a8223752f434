/**
 * The ingest client: real metrics to a real cluster over m3's raw TCP
 * protocol. Routes each metric like m3's Go client (every instance owning its
 * shard whose cutover/cutoff window contains now), follows the cluster's
 * placement while it runs, encodes each metric once straight into the first
 * replica's batch buffer and copies the bytes to the others, writes large
 * batches, applies backpressure, redials, and accounts for every frame:
 * written, lost (with the reason) or still pending, per endpoint.
 *
 * Cheap on purpose (the client shares the CPU with the aggregators it loads):
 * `send` and friends are synchronous. They return `undefined` when the client
 * can take more at once, or a promise to await while a socket is full.
 * `await client.counter(...)` works either way; a hot loop does
 * `const wait = client.counter(id, 1); if (wait) await wait;`.
 *
 * @example
 * const client = await M3IngestClient.connect(cluster);
 * client.counter("requests", 1);
 * const report = await client.close();   // { ok, written, lost, endpoints: { m3aggregator01: {…} } }
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { Placement, PlacementResponse } from "../m3/types";
import { type ConnectionOptions, type ConnectionStats, EndpointConnection, type TlsCertificateError } from "./connection";
import type { M3Version } from "../model/versions";
import { IngestEncoder, type Metric, type MetricPolicy } from "./encoder";
import { ShardRouter } from "./router";
import { type IngestClientOptions, InvalidClientOptionError, resolveClientOptions, type ResolvedClientOptions } from "./options";
import { poll } from "../util/poll";

export type { IngestClientOptions } from "./options";

/** Anything with a live placement: a started cluster, or your own function. */
export type PlacementSource =
  | Placement
  | {
    placement(): Promise<Placement>;
    /** The coordinator's admin client: gives the placement's version (a started cluster has it). */
    readonly admin?: { getPlacement(service: "m3aggregator"): Promise<PlacementResponse> } | undefined;
    /** The cluster's m3 version: the client's default wire version. */
    getM3Version?(): M3Version;
    /** The cluster's TLS settings: the client dials TLS with `clientOptions()` when present. */
    readonly tls?: { clientOptions?(): tls.ConnectionOptions } | undefined;
    /** The address this process reaches a placement endpoint at (named network model). */
    dialAddress?(endpoint: string): string;
  };

/** One endpoint (instance) in a {@link DeliveryReport}: its connections summed. */
export interface EndpointReport extends ConnectionStats {
  /** host:port. */
  endpoint: string;
  /** Whether the instance is in the placement the client routes by. */
  inPlacement: boolean;
}

/** What the client did: per endpoint and in total, in frames (one frame = one metric to one endpoint). */
export interface DeliveryReport {
  /** Nothing lost, nothing dropped, nothing pending. */
  ok: boolean;
  queued: number;
  written: number;
  lost: number;
  pending: number;
  /** Metrics no instance was accepting (no owner of their shard inside its cutover/cutoff window): sent nowhere. */
  dropped: number;
  /** The placement version the client routes by (-1: unknown, e.g. a fixed placement). */
  placementVersion: number;
  endpoints: Record<string, EndpointReport>;
}

/** Strict mode: something was lost or dropped. Names each endpoint and its lost count. */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  constructor(readonly report: DeliveryReport, when: string) {
    const parts = Object.entries(report.endpoints)
      .filter(([, e]) => e.lost > 0)
      .map(([id, e]) => `${id} (${e.endpoint}) lost ${e.lost} of ${e.queued}: ${Object.entries(e.lostBy).map(([r, n]) => `${n} ${r}`).join(", ")}${e.lastError ? `; last error: ${e.lastError}` : ""}`);
    if (report.dropped > 0) parts.push(`${report.dropped} metrics dropped: no instance accepting their shard`);
    super(`ingest client ${when}: ${parts.join("; ")}`);
  }
}

/** Where a shard's frames go: its accepting owners' connections (first one gets the encoding, the others a copy). */
interface Route {
  connections: EndpointConnection[];
}

interface Endpoint {
  endpoint: string;
  list: EndpointConnection[];
}

// Bounded: a load with more distinct ids than this simply recomputes (and the cache restarts).
const ROUTE_CACHE_MAX = 1_000_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

type SourceObject = Exclude<PlacementSource, Placement>;

/**
 * m3's raw TCP ingest client: each metric goes to every instance that owns its shard
 * (murmur3(id) % numShards) while the placement says it may (m3's cutover − warmup to cutoff + linger
 * window), batched per connection. Built from a cluster with {@link M3IngestClient.connect}, it follows
 * the live placement. Every frame is accounted for per endpoint (written, lost with a reason, pending):
 * {@link M3IngestClient.stats}, and the report `flush()` and `close()` resolve with. A down replica never
 * makes a send throw; it is redialed until `close()`. Raw TCP has no acks: the sink is the oracle of what
 * was aggregated (README "Delivery semantics").
 */
export class M3IngestClient {
  private readonly endpoints = new Map<string, Endpoint>();
  /** Connections no longer routed to (instance left the placement, endpoint moved): kept for the report. */
  private readonly retired = new Map<string, Endpoint[]>();
  private readonly connectionOptions: ConnectionOptions;
  private readonly resolved: ResolvedClientOptions;
  private readonly routes = new Map<string, Route>();
  private byShard: Route[];
  private currentRouter: ShardRouter;
  private version: number;
  private readonly scratch: IngestEncoder;
  private droppedCount = 0;
  private closed: Error | undefined;
  private fatal: TlsCertificateError | undefined;
  private followTimer: NodeJS.Timeout | undefined;
  private boundaryTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private lastPlacementJson: string | undefined;
  /** The last error of a placement refresh (cleared by a good one). */
  placementError: string | undefined;
  readonly m3Version: M3Version;
  private readonly encrypted: boolean;

  /**
   * A client for a fixed placement. Prefer {@link connect}, which also takes a cluster and follows it.
   * Throws {@link InvalidClientOptionError} for a bad option.
   */
  constructor(router: ShardRouter | Placement, options: IngestClientOptions = {}, private readonly source?: SourceObject, version = -1) {
    this.resolved = resolveClientOptions(options, source !== undefined);
    const o = this.resolved;
    this.m3Version = o.m3Version;
    this.encrypted = o.tls !== undefined;
    const tlsOptions = o.tls;
    const dial = o.connect ?? (tlsOptions !== undefined
      ? (host: string, port: number) => tls.connect({ ...tlsOptions, host, port })
      : (host: string, port: number) => net.connect({ host, port }));
    this.connectionOptions = {
      batchBytes: o.batchBytes, flushIntervalMs: o.flushIntervalMs, connectTimeoutMs: o.connectTimeoutMs,
      reconnectDelayMs: o.reconnectDelayMs, maxReconnectDelayMs: o.maxReconnectDelayMs, writeTimeoutMs: o.writeTimeoutMs,
      maxQueueBytes: o.maxQueueBytes, connect: dial, readyEvent: this.encrypted ? "secureConnect" : "connect", m3Version: o.m3Version,
      maxMessageBytes: o.maxMessageBytes,
    };
    this.scratch = new IngestEncoder({ m3Version: o.m3Version, initialBytes: 4096, maxMessageBytes: o.maxMessageBytes });
    this.currentRouter = router instanceof ShardRouter ? router : new ShardRouter(router, this.windows());
    this.version = version;
    this.byShard = [];
    this.scheduleBoundary();
    if (o.follow !== undefined) {
      this.followTimer = setInterval(() => void this.refreshPlacement().catch(() => undefined), o.follow.intervalMs);
      this.followTimer.unref();
    }
  }

  /**
   * A client for `source`: a started cluster (followed: the client polls its placement and routes
   * by the newest; see `followPlacement`), or a fixed placement.
   */
  static async connect(source: PlacementSource, options: IngestClientOptions = {}): Promise<M3IngestClient> {
    if ("instances" in source) return new M3IngestClient(source, options);
    resolveClientOptions(options, true); // bad options fail before any request
    const tlsOptions = options.tls !== undefined ? options.tls : source.tls?.clientOptions?.();
    const { placement, version } = await fetchPlacement(source);
    const client = new M3IngestClient(placement, {
      ...options,
      m3Version: options.m3Version ?? source.getM3Version?.(),
      ...(options.dial === undefined && source.dialAddress !== undefined ? { dial: (e: string) => source.dialAddress?.(e) ?? e } : {}),
      ...(tlsOptions === undefined ? {} : { tls: tlsOptions }),
    }, source, version);
    client.lastPlacementJson = JSON.stringify(placement);
    return client;
  }

  /** The router of the placement the client routes by now. */
  get router(): ShardRouter {
    return this.currentRouter;
  }

  /** The version of the placement the client routes by (the coordinator's; -1 when unknown). */
  placementVersion(): number {
    return this.version;
  }

  private windows() {
    return { shardCutoverWarmupMs: this.resolved.shardCutoverWarmupMs, shardCutoffLingerMs: this.resolved.shardCutoffLingerMs };
  }

  /** Reads the source's placement now and routes by it if it changed. Resolves once applied. */
  refreshPlacement(): Promise<void> {
    const source = this.source;
    if (source === undefined || this.closed !== undefined) return Promise.resolve();
    this.refreshing ??= (async () => {
      try {
        const { placement, version } = await fetchPlacement(source);
        this.placementError = undefined;
        const json = JSON.stringify(placement);
        if (this.closed === undefined && (version !== this.version || json !== this.lastPlacementJson)) {
          this.lastPlacementJson = json;
          this.applyPlacement(placement, version);
        }
      } catch (error) {
        this.placementError = error instanceof Error ? error.message : String(error);
        throw error;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Resolves once the client routes by placement version `version` or newer (polling the source meanwhile). */
  async waitForPlacementVersion(version: number, options: { timeoutMs?: number } = {}): Promise<number> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    return poll(async () => {
      if (this.version >= version) return this.version;
      await this.refreshPlacement().catch(() => undefined);
      return this.version >= version ? this.version : undefined;
    }, { timeoutMs, intervalMs: 50, what: `placement version ${version} (the client routes by ${this.version}${this.placementError ? `; last error: ${this.placementError}` : ""})` });
  }

  /** Routes by `placement` from now on (what following does on each change). */
  applyPlacement(placement: Placement, version = -1): void {
    const router = new ShardRouter(placement, this.windows());
    if (router.placement.numShards !== this.currentRouter.placement.numShards) {
      this.byShard = [];
      this.routes.clear();
    }
    this.currentRouter = router;
    this.version = version;
    for (const [instanceId, entry] of [...this.endpoints]) {
      if (!router.has(instanceId) || router.endpointOf(instanceId) !== entry.endpoint) this.retire(instanceId);
    }
    this.rebuildRoutes();
  }

  /** Re-evaluates every cached shard route against the router and the clock; arms the next boundary. */
  private rebuildRoutes(): void {
    const now = Date.now();
    for (let shard = 0; shard < this.byShard.length; shard++) {
      const route = this.byShard[shard];
      if (route !== undefined) route.connections = this.writers(shard, now);
    }
    this.scheduleBoundary();
  }

  private scheduleBoundary(): void {
    if (this.boundaryTimer !== undefined) clearTimeout(this.boundaryTimer);
    this.boundaryTimer = undefined;
    const now = Date.now();
    const next = this.currentRouter.nextChangeMs(now);
    if (!Number.isFinite(next) || this.closed !== undefined) return;
    this.boundaryTimer = setTimeout(() => this.rebuildRoutes(), Math.min(MAX_TIMER_MS, Math.max(1, next - now)));
    this.boundaryTimer.unref();
  }

  private retire(instanceId: string): void {
    const entry = this.endpoints.get(instanceId);
    if (entry === undefined) return;
    this.endpoints.delete(instanceId);
    const list = this.retired.get(instanceId) ?? [];
    list.push(entry);
    this.retired.set(instanceId, list);
    const deadline = Date.now() + this.resolved.closeTimeoutMs;
    for (const c of entry.list) void c.close(deadline);
  }

  private connection(instanceId: string, spread: number): EndpointConnection {
    let entry = this.endpoints.get(instanceId);
    if (entry === undefined) {
      const endpoint = this.resolved.dial(this.currentRouter.endpointOf(instanceId));
      const separator = endpoint.lastIndexOf(":");
      const host = endpoint.slice(0, separator);
      const port = Number(endpoint.slice(separator + 1));
      const list = Array.from({ length: this.resolved.connectionsPerEndpoint }, () => {
        const c = new EndpointConnection(host, port, this.connectionOptions);
        c.onFatal = (error) => {
          this.fatal ??= error;
        };
        return c;
      });
      entry = { endpoint, list };
      this.endpoints.set(instanceId, entry);
    }
    return entry.list[spread % entry.list.length] as EndpointConnection;
  }

  private writers(shard: number, now: number): EndpointConnection[] {
    return this.currentRouter.writersOfShard(shard, now).map((instance) => this.connection(instance, shard));
  }

  /** Whether this client's connections use TLS (the cluster's TLS handle is `cluster.tls`, an object). */
  usesTls(): boolean {
    return this.encrypted;
  }

  private shardRoute(shard: number): Route {
    let route = this.byShard[shard];
    if (route === undefined) {
      route = { connections: this.writers(shard, Date.now()) };
      this.byShard[shard] = route;
    }
    return route;
  }

  /** The route of an id: the shard hash once per distinct string id (cached), every time for byte ids. */
  private route(id: string | Uint8Array): Route {
    if (typeof id === "string") {
      let route = this.routes.get(id);
      if (route === undefined) {
        route = this.shardRoute(this.currentRouter.shardOf(id));
        if (this.routes.size >= ROUTE_CACHE_MAX) this.routes.clear();
        this.routes.set(id, route);
      }
      return route;
    }
    return this.shardRoute(this.currentRouter.shardOf(id));
  }

  private checkUsable(): void {
    if (this.fatal !== undefined) throw this.fatal;
    if (this.closed !== undefined) throw this.closed;
  }

  /**
   * The one path every metric takes: its route, `encode` into the first accepting owner's batch,
   * then the same bytes copied to the others. No accepting owner: validated, counted as dropped.
   */
  private toReplicas(id: string | Uint8Array, encode: (encoder: IngestEncoder) => void): Promise<void> | undefined {
    this.checkUsable();
    const connections = this.route(id).connections;
    const first = connections[0];
    if (first === undefined) {
      this.scratch.reset();
      encode(this.scratch); // bad input still throws
      this.scratch.reset();
      this.droppedCount++;
      return undefined;
    }
    const start = first.encoder.length;
    encode(first.encoder);
    const end = first.encoder.length;
    let wait: Promise<void> | undefined;
    for (let i = 1; i < connections.length; i++) {
      const c = connections[i] as EndpointConnection;
      c.encoder.appendBytes(first.encoder.buffer, start, end);
      wait = c.queued() ?? wait;
    }
    return first.queued() ?? wait;
  }

  /**
   * Sends one metric to every instance accepting its shard. Returns `undefined` when the client can take
   * more now, or a promise that resolves once it can (backpressure from a live socket). Never throws
   * because an endpoint is down (its frames wait in a bounded queue, and are counted lost beyond it).
   * Throws InvalidMetricError for bad input (before anything is sent), the client's close error after
   * close(), and a TlsCertificateError once any connection met a certificate problem.
   */
  send(metric: Metric): Promise<void> | undefined {
    return this.toReplicas(metric?.id, (encoder) => encoder.append(metric));
  }

  /** Sends one metric to one node only (by instance id), whatever its shard. */
  sendTo(instanceId: string, metric: Metric): Promise<void> | undefined {
    this.checkUsable();
    const connection = this.connection(instanceId, 0);
    connection.encoder.append(metric);
    return connection.queued();
  }

  /** Sends many metrics, waiting whenever the client is backpressured. */
  async sendMany(metrics: Iterable<Metric>): Promise<void> {
    for (const metric of metrics) {
      const wait = this.send(metric);
      if (wait !== undefined) await wait;
    }
  }

  /** A counter increment (int64); see {@link send} for the return value. */
  counter(id: string | Uint8Array, value: number | bigint = 1, policy?: MetricPolicy): Promise<void> | undefined {
    return this.toReplicas(id, (encoder) => encoder.counter(id, value, policy));
  }

  /** A gauge value; see {@link send}. */
  gauge(id: string | Uint8Array, value: number, policy?: MetricPolicy): Promise<void> | undefined {
    return this.toReplicas(id, (encoder) => encoder.gauge(id, value, policy));
  }

  /** One batch timer (all values in one frame); see {@link send}. */
  timer(id: string | Uint8Array, values: number[], policy?: MetricPolicy): Promise<void> | undefined {
    return this.toReplicas(id, (encoder) => encoder.timer(id, values, policy));
  }

  /** A timed metric (client timestamp, explicit storage policy); see {@link send}. */
  timed(metric: Omit<Extract<Metric, { type: "timed" }>, "type">): Promise<void> | undefined {
    return this.toReplicas(metric?.id, (encoder) => encoder.timed(metric));
  }

  private everyConnection(): EndpointConnection[] {
    return [...this.endpoints.values()].flatMap((e) => e.list);
  }

  /** Per endpoint (instance id): queued, written, lost (by reason), pending, reconnects, last error, state. */
  stats(): Record<string, EndpointReport> {
    const out: Record<string, EndpointReport> = {};
    const add = (instanceId: string, entry: Endpoint, inPlacement: boolean) => {
      for (const c of entry.list) {
        const s = c.stats();
        const r = out[instanceId];
        if (r === undefined) {
          out[instanceId] = { ...s, endpoint: entry.endpoint, inPlacement };
          continue;
        }
        r.queued += s.queued;
        r.written += s.written;
        r.lost += s.lost;
        r.pending += s.pending;
        r.reconnects += s.reconnects;
        r.bytes += s.bytes;
        r.writes += s.writes;
        r.drainWaits += s.drainWaits;
        for (const [reason, n] of Object.entries(s.lostBy)) r.lostBy[reason] = (r.lostBy[reason] ?? 0) + n;
        r.lastError = s.lastError ?? r.lastError;
        if (inPlacement && s.state !== "closed") r.state = s.state;
        r.inPlacement ||= inPlacement;
      }
    };
    for (const [instanceId, entries] of this.retired) for (const entry of entries) add(instanceId, entry, false);
    for (const [instanceId, entry] of this.endpoints) add(instanceId, entry, this.currentRouter.has(instanceId));
    return out;
  }

  /** The delivery report: {@link stats} and totals. */
  report(): DeliveryReport {
    const endpoints = this.stats();
    const sum = (k: "queued" | "written" | "lost" | "pending") => Object.values(endpoints).reduce((s, e) => s + e[k], 0);
    const lost = sum("lost");
    const pending = sum("pending");
    return {
      ok: lost === 0 && pending === 0 && this.droppedCount === 0, queued: sum("queued"), written: sum("written"), lost, pending,
      dropped: this.droppedCount, placementVersion: this.version, endpoints,
    };
  }

  private finish(when: string): DeliveryReport {
    const report = this.report();
    if (this.fatal !== undefined) throw this.fatal;
    if (this.resolved.strict && (report.lost > 0 || report.dropped > 0)) throw new DeliveryError(report, when);
    return report;
  }

  /**
   * Writes every queued frame. Resolves with the {@link DeliveryReport} once each frame so far was written
   * or lost, except frames waiting for an endpoint that is down (reported as `pending`; they go when it
   * comes back, or are lost at close). Rejects with a TlsCertificateError after a certificate problem,
   * and in strict mode with a {@link DeliveryError} when anything was lost or dropped.
   */
  async flush(): Promise<DeliveryReport> {
    await Promise.all(this.everyConnection().map((c) => c.flush()));
    return this.finish("flush");
  }

  /**
   * Flushes and closes every connection, within `timeoutMs` (default `closeTimeoutMs`, 10 s) even when a
   * peer does not read: what is not written by then counts as lost. Resolves with the final report
   * (strict mode: rejects with a {@link DeliveryError} when anything was lost). Later sends throw.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<DeliveryReport> {
    const timeoutMs = options.timeoutMs ?? this.resolved.closeTimeoutMs;
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
      throw new InvalidClientOptionError("timeoutMs", timeoutMs, "close({ timeoutMs }) takes a finite number of ms >= 0");
    }
    if (this.closed === undefined) {
      this.closed = new Error("the ingest client is closed");
      if (this.followTimer !== undefined) clearInterval(this.followTimer);
      if (this.boundaryTimer !== undefined) clearTimeout(this.boundaryTimer);
    }
    const deadline = Date.now() + timeoutMs;
    const all = [...this.everyConnection(), ...[...this.retired.values()].flat().flatMap((e) => e.list)];
    await Promise.all(all.map((c) => c.close(deadline)));
    return this.finish("close");
  }

  /** `await using client = …` closes it (non-strict errors aside). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function fetchPlacement(source: SourceObject): Promise<{ placement: Placement; version: number }> {
  if (source.admin !== undefined) {
    const response = await source.admin.getPlacement("m3aggregator");
    return { placement: response.placement, version: response.version };
  }
  return { placement: await source.placement(), version: -1 };
}
