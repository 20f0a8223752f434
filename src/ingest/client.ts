/**
 * The ingest client: real metrics to a real cluster over m3's raw TCP
 * protocol. Routes each metric like m3's Go client (every replica of the
 * owning shard set), encodes it once straight into the first replica's batch
 * buffer and copies the bytes to the others, writes large batches, applies
 * backpressure, and reconnects. Works from jest and from plain Node scripts
 * (load harnesses).
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
 * await client.flush();
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { Placement } from "../m3/types";
import { type ConnectionOptions, type ConnectionStats, EndpointConnection } from "./connection";
import type { M3Version } from "../model/versions";
import { idBytes, type IngestEncoder, m3VersionOf, type Metric, type MetricPolicy } from "./encoder";
import { murmur3 } from "./murmur3";
import { ShardRouter } from "./router";

export interface IngestClientOptions extends Partial<Omit<ConnectionOptions, "m3Version" | "readyEvent">> {
  /** Persistent connections per endpoint (metrics are spread by shard). Default 1. */
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
}

/** Anything with a live placement: a started cluster, or your own function. */
export type PlacementSource =
  | Placement
  | {
    placement(): Promise<Placement>;
    /** The cluster's m3 version: the client's default wire version. */
    getM3Version?(): M3Version;
    /** The cluster's TLS settings: the client dials TLS with `clientOptions()` when present. */
    readonly tls?: { clientOptions?(): tls.ConnectionOptions } | undefined;
  };

const DEFAULTS = {
  // 64 KiB batches: the aggregator reads 64 KiB at a time; bigger batches gain little.
  batchBytes: 64 * 1024,
  // 5 ms: frames sent one by one still leave within a few ms; throughput runs come in full batches.
  flushIntervalMs: 5,
  connectTimeoutMs: 5_000,
  reconnectDelayMs: 50,
  maxReconnectDelayMs: 2_000,
};

/** Where an id goes: its replicas' connections (first one gets the encoding, the others a copy). */
interface Route {
  readonly connections: EndpointConnection[];
}

// Bounded: a load with more distinct ids than this simply recomputes (and the cache restarts).
const ROUTE_CACHE_MAX = 1_000_000;

export class M3IngestClient {
  private readonly connections = new Map<string, EndpointConnection[]>();
  private readonly options: ConnectionOptions;
  private readonly perEndpoint: number;
  private readonly routes = new Map<string, Route>();
  private readonly byShard: Route[];
  readonly m3Version: M3Version;
  /** Whether connections use TLS. */
  readonly tls: boolean;

  constructor(readonly router: ShardRouter, options: IngestClientOptions = {}) {
    const { connectionsPerEndpoint, m3Version, tls: tlsOptions, ...connection } = options;
    this.m3Version = m3VersionOf(m3Version);
    this.perEndpoint = connectionsPerEndpoint ?? 1;
    if (!Number.isInteger(this.perEndpoint) || this.perEndpoint < 1) {
      throw new Error(`invalid connectionsPerEndpoint=${connectionsPerEndpoint}: must be a whole number >= 1`);
    }
    this.tls = tlsOptions !== undefined && tlsOptions !== false;
    const dial = this.tls
      ? (host: string, port: number) => tls.connect({ ...(tlsOptions as tls.ConnectionOptions), host, port })
      : (host: string, port: number) => net.connect({ host, port });
    this.options = { ...DEFAULTS, connect: dial, ...connection, readyEvent: this.tls ? "secureConnect" : "connect", m3Version: this.m3Version };
    const numShards = router.placement.numShards;
    this.byShard = Array.from({ length: numShards }, () => undefined as unknown as Route);
  }

  /** A client for the placement of `source` (read once; call again after placement changes). */
  static async connect(source: PlacementSource, options: IngestClientOptions = {}): Promise<M3IngestClient> {
    const placement = "instances" in source ? source : await source.placement();
    const fromSource: Exclude<PlacementSource, Placement> | undefined = "instances" in source ? undefined : source;
    const tlsOptions = options.tls !== undefined ? options.tls : fromSource?.tls?.clientOptions?.();
    return new M3IngestClient(new ShardRouter(placement), {
      ...options,
      m3Version: options.m3Version ?? fromSource?.getM3Version?.(),
      ...(tlsOptions === undefined ? {} : { tls: tlsOptions }),
    });
  }

  private connection(instanceId: string, spread: number): EndpointConnection {
    let list = this.connections.get(instanceId);
    if (list === undefined) {
      const endpoint = this.router.endpointOf(instanceId);
      const separator = endpoint.lastIndexOf(":");
      const host = endpoint.slice(0, separator);
      const port = Number(endpoint.slice(separator + 1));
      list = Array.from({ length: this.perEndpoint }, () => new EndpointConnection(host, port, this.options));
      this.connections.set(instanceId, list);
    }
    return list[spread % list.length] as EndpointConnection;
  }

  private shardRoute(shard: number): Route {
    let route = this.byShard[shard];
    if (route === undefined) {
      const replicas = this.router.replicasOfShard(shard);
      if (replicas.length === 0) throw new Error(`shard ${shard} has no instance in the placement`);
      route = { connections: replicas.map((instance) => this.connection(instance, shard)) };
      this.byShard[shard] = route;
    }
    return route;
  }

  /** The route of an id: murmur3 once per distinct string id (cached), every time for byte ids. */
  private route(id: string | Uint8Array): Route {
    if (typeof id === "string") {
      let route = this.routes.get(id);
      if (route === undefined) {
        route = this.shardRoute(murmur3(idBytes(id)) % this.byShard.length);
        if (this.routes.size >= ROUTE_CACHE_MAX) this.routes.clear();
        this.routes.set(id, route);
      }
      return route;
    }
    return this.shardRoute(murmur3(idBytes(id)) % this.byShard.length);
  }

  /** Copies the frame just appended to the first connection to the other replicas; queues it everywhere. */
  private fanOut(route: Route, start: number): Promise<void> | undefined {
    const connections = route.connections;
    const first = connections[0] as EndpointConnection;
    const end = first.encoder.length;
    let wait: Promise<void> | undefined;
    for (let i = 1; i < connections.length; i++) {
      const c = connections[i] as EndpointConnection;
      c.encoder.appendBytes(first.encoder.buffer, start, end);
      wait = c.queued() ?? wait;
    }
    return first.queued() ?? wait;
  }

  private checkOpen(route: Route): void {
    for (const c of route.connections) c.checkOpen();
  }

  /**
   * The one path every metric takes: its route, the connections checked open, `encode` into the
   * first replica's batch, then the same bytes copied to the others ({@link fanOut}).
   */
  private toReplicas(id: string | Uint8Array, encode: (encoder: IngestEncoder) => void): Promise<void> | undefined {
    const route = this.route(id);
    this.checkOpen(route);
    const first = route.connections[0] as EndpointConnection;
    const start = first.encoder.length;
    encode(first.encoder);
    return this.fanOut(route, start);
  }

  /**
   * Sends one metric to every replica of its shard. Returns `undefined` when the client can take
   * more now, or a promise that resolves once it can (backpressure). Call {@link flush} to be sure
   * everything was written. Throws InvalidMetricError for bad input, before anything is sent,
   * and an Error once the client was closed or a connection gave up reconnecting.
   */
  send(metric: Metric): Promise<void> | undefined {
    return this.toReplicas(metric?.id, (encoder) => encoder.append(metric));
  }

  /** Sends one metric to one node only (by instance id), whatever its shard. */
  sendTo(instanceId: string, metric: Metric): Promise<void> | undefined {
    const connection = this.connection(instanceId, 0);
    connection.checkOpen();
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

  /** A counter increment (int64), to every replica; see {@link send} for the return value. */
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

  /** Writes every queued frame; resolves once all of it was handed to the kernel. */
  async flush(): Promise<void> {
    await Promise.all([...this.connections.values()].flat().map((c) => c.flush()));
  }

  /** Frames, bytes, writes, reconnects and backpressure waits per instance. */
  stats(): Record<string, ConnectionStats> {
    const out: Record<string, ConnectionStats> = {};
    for (const [instance, list] of this.connections) {
      out[instance] = list.reduce((sum, c) => ({
        frames: sum.frames + c.stats.frames, bytes: sum.bytes + c.stats.bytes, writes: sum.writes + c.stats.writes,
        reconnects: sum.reconnects + c.stats.reconnects, drainWaits: sum.drainWaits + c.stats.drainWaits,
      }), { frames: 0, bytes: 0, writes: 0, reconnects: 0, drainWaits: 0 });
    }
    return out;
  }

  /** Flushes and closes every connection. */
  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].flat().map((c) => c.close()));
  }
}
