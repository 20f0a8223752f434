/**
 * One persistent raw TCP (or TLS) connection to an aggregator endpoint.
 * Frames are encoded straight into this connection's batch buffer
 * (an {@link IngestEncoder}); a full batch (or the flush timer) hands the
 * buffer to the socket as one write, and the buffer comes back to a small
 * free list when the socket is done with it. Nothing is allocated per metric.
 *
 * Backpressure: when the socket's buffer is full (or too much waits for a
 * connection), {@link queued} returns a promise that resolves on 'drain';
 * otherwise `undefined`. Reconnects with backoff when the connection drops
 * (the aggregator closes a connection on a bad frame and never writes back).
 */
import * as net from "node:net";
import type { M3Version } from "../model/versions";
import { IngestEncoder } from "./encoder";

export interface ConnectionOptions {
  /** Hand a batch to the socket once it holds this many bytes. */
  batchBytes: number;
  /** …or after this many milliseconds. */
  flushIntervalMs: number;
  connectTimeoutMs: number;
  /** First reconnect delay; doubles up to maxReconnectDelayMs. */
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  /** How the socket is made (plain TCP, or TLS). */
  connect: (host: string, port: number) => net.Socket;
  /** The event that says the socket is ready: "connect", or "secureConnect" for TLS. */
  readyEvent?: "connect" | "secureConnect";
  /** The wire version frames are encoded for. */
  m3Version: M3Version;
}

/** What one connection did. */
export interface ConnectionStats {
  frames: number;
  bytes: number;
  writes: number;
  reconnects: number;
  drainWaits: number;
}

const FREE_BUFFERS = 4;

export class EndpointConnection {
  /** The batch being filled: callers append frames, then call {@link queued}. */
  readonly encoder: IngestEncoder;
  readonly stats: ConnectionStats = { frames: 0, bytes: 0, writes: 0, reconnects: 0, drainWaits: 0 };
  private socket: net.Socket | undefined;
  private connecting: Promise<void> | undefined;
  /** Batches waiting for a connection, in order. */
  private waiting: Buffer[] = [];
  private waitingBytes = 0;
  private inflight = 0;
  private timer: NodeJS.Timeout | undefined;
  private blocked: Promise<void> | undefined;
  private unblock: (() => void) | undefined;
  private idle: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private readonly free: Buffer[] = [];
  private readonly bufferBytes: number;
  private closed = false;
  private failure: Error | undefined;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flushBatch();
  };

  constructor(readonly host: string, readonly port: number, private readonly options: ConnectionOptions) {
    // Room for a full batch plus a typical frame, so a batch rarely needs to grow.
    this.bufferBytes = options.batchBytes + 4096;
    this.encoder = new IngestEncoder({ m3Version: options.m3Version, initialBytes: this.bufferBytes });
  }

  /**
   * Call after appending `frames` frames to {@link encoder}: sends a full batch, arms the
   * flush timer otherwise. Returns a promise while the connection is backpressured, else undefined.
   */
  queued(frames = 1): Promise<void> | undefined {
    this.stats.frames += frames;
    if (this.encoder.length >= this.options.batchBytes) this.flushBatch();
    else if (this.timer === undefined) this.timer = setTimeout(this.onTimer, this.options.flushIntervalMs);
    return this.blocked;
  }

  /** Throws if the connection was closed or gave up reconnecting. */
  checkOpen(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new Error(`connection to ${this.host}:${this.port} is closed`);
  }

  /** Hands the batch being filled to the socket (or to the queue for the next connection). */
  flushBatch(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const encoder = this.encoder;
    if (encoder.length === 0) return;
    const data = encoder.buffer.subarray(0, encoder.length);
    encoder.buffer = this.free.pop() ?? Buffer.allocUnsafe(this.bufferBytes);
    encoder.length = 0;
    const socket = this.socket;
    if (socket !== undefined && this.waiting.length === 0 && !socket.destroyed) {
      this.write(socket, data);
    } else {
      this.waiting.push(data);
      this.waitingBytes += data.length;
      // Without a connection, hold a few batches, then make senders wait.
      if (this.waitingBytes > 8 * this.options.batchBytes) this.block();
      this.ensureConnected();
    }
  }

  private write(socket: net.Socket, data: Buffer): void {
    this.stats.writes++;
    this.stats.bytes += data.length;
    this.inflight++;
    const full = data.buffer.byteLength === this.bufferBytes ? Buffer.from(data.buffer, data.byteOffset, this.bufferBytes) : undefined;
    const ok = socket.write(data, () => {
      // Written (or failed: the socket closed). The buffer can be reused either way.
      this.inflight--;
      if (full !== undefined && this.free.length < FREE_BUFFERS) this.free.push(full);
      this.settle();
    });
    if (!ok) {
      this.block();
      socket.once("drain", this.release);
    }
  }

  private block(): void {
    if (this.blocked !== undefined) return;
    this.stats.drainWaits++;
    this.blocked = new Promise<void>((resolve) => {
      this.unblock = resolve;
    });
  }

  private readonly release = (): void => {
    const unblock = this.unblock;
    this.blocked = undefined;
    this.unblock = undefined;
    unblock?.();
  };

  /** Resolves flush() waiters once nothing is pending. */
  private settle(): void {
    if (this.idle.length === 0 || this.inflight > 0 || this.waiting.length > 0 || this.encoder.length > 0) return;
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w.resolve();
  }

  private ensureConnected(): void {
    if (this.connecting !== undefined || this.closed) return;
    this.connecting = this.dial().then(
      (socket) => {
        this.connecting = undefined;
        this.socket = socket;
        const batches = this.waiting;
        this.waiting = [];
        this.waitingBytes = 0;
        for (const data of batches) this.write(socket, data);
        if (!socket.writableNeedDrain) this.release();
        this.settle();
      },
      (error: Error) => {
        // Gave up: fail everything that waits, and every later send.
        this.connecting = undefined;
        this.failure = error;
        this.waiting = [];
        this.waitingBytes = 0;
        this.release();
        const waiters = this.idle;
        this.idle = [];
        for (const w of waiters) w.reject(error);
      },
    );
  }

  private async dial(): Promise<net.Socket> {
    let delay = this.options.reconnectDelayMs;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error(`connection to ${this.host}:${this.port} is closed`);
      try {
        const socket = await this.dialOnce();
        if (attempt > 0 || this.stats.writes > 0) this.stats.reconnects++;
        return socket;
      } catch (error) {
        if (attempt >= 20) throw new Error(`cannot connect to ${this.host}:${this.port}: ${(error as Error).message}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.options.maxReconnectDelayMs);
      }
    }
  }

  private dialOnce(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = this.options.connect(this.host, this.port);
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error(`connect timeout after ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
      socket.once(this.options.readyEvent ?? "connect", () => {
        clearTimeout(timer);
        socket.removeListener("error", reject);
        socket.on("error", () => undefined); // a drop shows as 'close'; the next batch reconnects
        socket.once("close", () => {
          if (this.socket === socket) this.socket = undefined;
          this.release(); // nobody waits for a dead socket's drain
        });
        socket.resume(); // the server never writes; keep the stream flowing so 'close' arrives
        resolve(socket);
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Sends the pending batch; resolves once every batch so far was handed to the kernel. */
  flush(): Promise<void> {
    this.flushBatch();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.inflight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.idle.push({ resolve, reject }));
  }

  /** Flushes, then ends the connection. */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    this.closed = true;
    const socket = this.socket;
    if (socket !== undefined && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.end();
      });
    }
  }
}
