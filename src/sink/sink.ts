/**
 * The sink: an in-process m3msg consumer the aggregators flush to (backend
 * "sink"). The aggregators (producers) dial it, 4 connections each, leaders
 * and followers alike; it acks every message on the connection it came on
 * and keeps each datapoint once: m3 re-sends unacked messages, and a new
 * leader may flush a window again.
 */
import * as net from "node:net";
import { type AggregatedDatapoint, decodeAggregatedMetric, decodeMessage, encodeAck, FrameReader, type MsgMetadata } from "./codec";
import { LOOPBACK } from "../model/network";
import { poll } from "../util/poll";
import { identifyProducer } from "./producer";

/** Counters of what the sink saw. */
export interface SinkStats {
  connections: number;
  activeConnections: number;
  messages: number;
  acked: number;
  /** Messages whose datapoint (id, window end, storage policy) was already kept, with the same value. */
  duplicates: number;
  /** Like duplicates, but with a different value: the first value is kept; see {@link M3MsgSink.conflicts}. */
  conflicts: number;
  decodeErrors: number;
}

/** A datapoint received again with another value. */
export interface Conflict {
  kept: AggregatedDatapoint;
  received: AggregatedDatapoint;
}

const keyOf = (p: AggregatedDatapoint): string => `${p.id}\u0000${p.timeNanos}\u0000${p.storagePolicy.text}`;

/** An in-process m3msg consumer: the aggregators' flush target with backend "sink". Acks every message and keeps the datapoints. */
export class M3MsgSink {
  private readonly points: AggregatedDatapoint[] = [];
  private readonly byKey = new Map<string, AggregatedDatapoint>();
  private readonly conflictList: Conflict[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly counters: Omit<SinkStats, "activeConnections"> = {
    connections: 0, messages: 0, acked: 0, duplicates: 0, conflicts: 0, decodeErrors: 0,
  };
  private stopping: Promise<void> | undefined;
  /** Per datapoint key: the producer connections (remote ports) that delivered it, first one first. */
  private readonly deliveredBy = new Map<string, number[]>();
  /** Remote port of a producer connection → the aggregator instance id behind it (once identified). */
  private readonly producers = new Map<number, string>();

  private constructor(private readonly server: net.Server, readonly host: string, readonly port: number) {}

  /** Listens on host:port (default 127.0.0.1 and a free port). */
  static async start(options: { host?: string; port?: number } = {}): Promise<M3MsgSink> {
    const host = options.host ?? LOOPBACK;
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port: options.port ?? 0 }, resolve);
    });
    const sink = new M3MsgSink(server, host, (server.address() as net.AddressInfo).port);
    server.on("connection", (socket) => sink.serve(socket));
    return sink;
  }

  /** `host:port`: the endpoint of the sink's instance in the consumer placement. */
  get endpoint(): string {
    return `${this.host}:${this.port}`;
  }

  private serve(socket: net.Socket): void {
    this.counters.connections++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const remotePort = socket.remotePort ?? 0;
    // Which aggregator dialed: looked up once per connection, off the data path.
    void identifyProducer(remotePort, this.port).then((id) => {
      if (id !== undefined) this.producers.set(remotePort, id);
    }, () => undefined);
    const reader = new FrameReader();
    socket.on("data", (chunk: Buffer) => {
      let acks: MsgMetadata[] = [];
      try {
        for (const body of reader.push(chunk)) {
          const message = decodeMessage(body);
          this.counters.messages++;
          this.keep(decodeAggregatedMetric(message.value), remotePort);
          acks.push(message.metadata);
        }
      } catch {
        // Garbage: m3's consumer drops the connection too; the producer reconnects and re-sends.
        this.counters.decodeErrors++;
        socket.destroy();
        acks = [];
      }
      // One ack frame per read: acks of everything decoded from this chunk.
      if (acks.length > 0 && !socket.destroyed) {
        socket.write(encodeAck(acks));
        this.counters.acked += acks.length;
      }
    });
    socket.on("error", () => undefined); // a producer going away is normal
    socket.on("close", () => this.sockets.delete(socket));
  }

  private keep(point: AggregatedDatapoint, remotePort = 0): void {
    const key = keyOf(point);
    const by = this.deliveredBy.get(key);
    if (by === undefined) this.deliveredBy.set(key, [remotePort]);
    else if (!by.includes(remotePort)) by.push(remotePort);
    const kept = this.byKey.get(key);
    if (kept === undefined) {
      this.byKey.set(key, point);
      this.points.push(point);
    } else if (kept.value === point.value || (Number.isNaN(kept.value) && Number.isNaN(point.value))) {
      this.counters.duplicates++;
    } else {
      this.counters.conflicts++;
      this.conflictList.push({ kept, received: point });
    }
  }

  /** Every distinct datapoint received so far, in arrival order. */
  datapoints(): AggregatedDatapoint[] {
    return [...this.points];
  }

  /** Datapoints of one output id, in arrival order. */
  find(id: string): AggregatedDatapoint[] {
    return this.points.filter((p) => p.id === id);
  }

  /** Sum of the values of one output id over all its windows (e.g. a counter's total). */
  sum(id: string): number {
    return this.find(id).reduce((total, p) => total + p.value, 0);
  }

  /**
   * Which aggregator flushed each datapoint: the instance ids (or `127.0.0.1:<port>` when the producer
   * could not be identified) of the connections that delivered it, first first. A window re-flushed after
   * a failover or across a cutover shows both instances. See src/sink/producer.ts for how it is known.
   */
  flushedBy(point: AggregatedDatapoint): string[] {
    return (this.deliveredBy.get(keyOf(point)) ?? []).map((port) => this.producers.get(port) ?? `127.0.0.1:${port}`);
  }

  /** Duplicates that carried a different value. */
  conflicts(): Conflict[] {
    return [...this.conflictList];
  }

  stats(): SinkStats {
    return { ...this.counters, activeConnections: this.sockets.size };
  }

  /** Forgets every datapoint and counter (connections stay). */
  clear(): void {
    this.points.length = 0;
    this.byKey.clear();
    this.conflictList.length = 0;
    this.deliveredBy.clear();
    Object.assign(this.counters, { messages: 0, acked: 0, duplicates: 0, conflicts: 0, decodeErrors: 0 });
  }

  /**
   * Polls `predicate` over the datapoints until it returns something other than `undefined`, `null` or
   * `false` (so `0` and `""` are results), and resolves with that. Rejects after `timeoutMs` with what
   * was received (count, last ids, stats); a `timeoutMs` that is not a finite number >= 0 is refused.
   */
  async waitFor<T>(predicate: (points: AggregatedDatapoint[]) => T | undefined | null | false, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    return poll(() => {
      const result = predicate(this.datapoints());
      return result === undefined || result === null || result === false ? undefined : result;
    }, {
      timeoutMs, intervalMs: options.intervalMs, what: options.what ?? "condition",
      onTimeout: () => {
        const last = this.points.slice(-5).map((p) => `${p.id}@${p.timeNanos}=${p.value}`).join(", ");
        return new Error(`sink: ${options.what ?? "condition"} not met within ${timeoutMs} ms; ` +
          `${this.points.length} datapoints received (last: ${last || "none"}); stats ${JSON.stringify(this.stats())}`);
      },
    });
  }

  /** Closes the listener and every connection. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      for (const socket of this.sockets) socket.destroy();
      this.server.close(() => resolve());
    });
    return this.stopping;
  }
}
