/**
 * The ingest client: real metrics to a real cluster over m3's raw TCP
 * protocol. Routes each metric like m3's Go client (every replica of the
 * owning shard set), batches frames per endpoint, applies backpressure, and
 * reconnects. Works from jest and from plain Node scripts (load harnesses).
 *
 * @example
 * const client = await M3IngestClient.connect(cluster);
 * await client.counter("requests", 1);
 * await client.flush();
 */
import * as net from "node:net";
import type { Placement } from "../admin/types";
import { type ConnectionOptions, EndpointConnection } from "./connection";
import { encodeFrame, type Metric, type MetricPolicy } from "./encoder";
import { ShardRouter } from "./router";

export interface IngestClientOptions extends Partial<ConnectionOptions> {
  /** Persistent connections per endpoint (metrics are spread by id hash). Default 1. */
  connectionsPerEndpoint?: number;
}

/** Anything with a live placement: a started cluster, or your own function. */
export type PlacementSource = Placement | { placement(): Promise<Placement> };

const DEFAULTS: ConnectionOptions = {
  // 64 KiB batches: the aggregator reads 64 KiB at a time; bigger batches gain little.
  batchBytes: 64 * 1024,
  // 5 ms: frames sent one by one still leave within a few ms; throughput runs come in full batches.
  flushIntervalMs: 5,
  connectTimeoutMs: 5_000,
  reconnectDelayMs: 50,
  maxReconnectDelayMs: 2_000,
  connect: (host, port) => net.connect({ host, port }),
};

export class M3IngestClient {
  private readonly connections = new Map<string, EndpointConnection[]>();
  private readonly options: ConnectionOptions;
  private readonly perEndpoint: number;

  constructor(readonly router: ShardRouter, options: IngestClientOptions = {}) {
    const { connectionsPerEndpoint, ...connection } = options;
    this.options = { ...DEFAULTS, ...connection };
    this.perEndpoint = connectionsPerEndpoint ?? 1;
    if (!Number.isInteger(this.perEndpoint) || this.perEndpoint < 1) {
      throw new Error(`invalid connectionsPerEndpoint=${connectionsPerEndpoint}: must be a whole number >= 1`);
    }
  }

  /** A client for the placement of `source` (read once; call again after placement changes). */
  static async connect(source: PlacementSource, options: IngestClientOptions = {}): Promise<M3IngestClient> {
    const placement = "instances" in source ? source : await source.placement();
    return new M3IngestClient(new ShardRouter(placement), options);
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

  /**
   * Sends one metric to every replica of its shard. Resolves when the client can take more
   * (backpressure); call {@link flush} to be sure everything was written.
   * Throws InvalidMetricError for bad input, before anything is sent.
   */
  send(metric: Metric): Promise<void> {
    const frame = encodeFrame(metric);
    const shard = this.router.shardOf(metric.id);
    return Promise.all(this.router.replicasOf(metric.id).map((instance) => this.connection(instance, shard).send(frame))).then(() => undefined);
  }

  /** Sends one metric to one node only (by instance id), whatever its shard. */
  sendTo(instanceId: string, metric: Metric): Promise<void> {
    return this.connection(instanceId, 0).send(encodeFrame(metric));
  }

  /** Sends many metrics; resolves after the last was queued. */
  async sendMany(metrics: Iterable<Metric>): Promise<void> {
    for (const metric of metrics) await this.send(metric);
  }

  counter(id: string, value: number | bigint = 1, policy: MetricPolicy = {}): Promise<void> {
    return this.send({ type: "counter", id, value, ...policy });
  }

  gauge(id: string, value: number, policy: MetricPolicy = {}): Promise<void> {
    return this.send({ type: "gauge", id, value, ...policy });
  }

  timer(id: string, values: number[], policy: MetricPolicy = {}): Promise<void> {
    return this.send({ type: "timer", id, values, ...policy });
  }

  timed(metric: Omit<Extract<Metric, { type: "timed" }>, "type">): Promise<void> {
    return this.send({ type: "timed", ...metric });
  }

  /** Writes every queued frame to its socket. */
  async flush(): Promise<void> {
    await Promise.all([...this.connections.values()].flat().map((c) => c.flush()));
  }

  /** Frames, bytes, writes, reconnects and backpressure waits per instance. */
  stats(): Record<string, EndpointConnection["stats"]> {
    const out: Record<string, EndpointConnection["stats"]> = {};
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
