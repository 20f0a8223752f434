/**
 * One persistent raw TCP (or TLS) connection to an aggregator endpoint, with
 * exact delivery accounting.
 *
 * Frames are encoded straight into this connection's batch buffer (an
 * {@link IngestEncoder}); a full batch (or the flush timer) goes to the
 * socket as one write. Every frame handed to the connection ends in exactly
 * one of three counters: `written` (the kernel took it: raw TCP has no acks,
 * so this is all a client can know), `lost` (with the reason), or it is still
 * `pending` (in the batch, queued for a socket, or in a write not yet done).
 *
 * Failure model (issue 16):
 * - the peer goes away (killed, closed the connection): the connection
 *   redials with capped backoff until {@link close}, forever; batches wait in a
 *   bounded queue meanwhile (`maxQueueBytes`, oldest dropped and counted lost);
 *   senders are never blocked by a connection that has no socket;
 * - the peer stops reading (paused): senders wait for 'drain' (backpressure) at
 *   most `writeTimeoutMs`; then the socket is destroyed (what it held is lost,
 *   named "write stalled"), and until a socket drains again the connection stops
 *   holding senders back (bounded queue instead);
 * - TLS certificate problems are not retried: the connection fails for good,
 *   with a {@link TlsCertificateError} naming the endpoint and the problem.
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
  /** First redial delay; doubles up to maxReconnectDelayMs. */
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  /** A socket that does not drain within this is declared stalled and dropped. */
  writeTimeoutMs: number;
  /** Bytes held for an endpoint that cannot take them now; beyond this the oldest batches are lost. */
  maxQueueBytes: number;
  /** How the socket is made (plain TCP, or TLS). */
  connect: (host: string, port: number) => net.Socket;
  /** The event that says the socket is ready: "connect", or "secureConnect" for TLS. */
  readyEvent?: "connect" | "secureConnect";
  /** The wire version frames are encoded for. */
  m3Version: M3Version;
  /** Largest frame payload (the encoder refuses bigger ones). */
  maxMessageBytes?: number;
}

/** Where a connection is. `down`: the last dial failed (redialing); `failed`: given up for good (TLS certificate). */
export type ConnectionState = "idle" | "connecting" | "connected" | "down" | "failed" | "closed";

/** What one endpoint's connection(s) did, in frames. queued = written + lost + pending. */
export interface ConnectionStats {
  /** Frames handed to this endpoint. */
  queued: number;
  /** Frames the kernel accepted (a write that completed without error). */
  written: number;
  /** Frames that will never be written, total. */
  lost: number;
  /** Lost frames by reason ("write failed: EPIPE", "queue full while unreachable", "close timeout", …). */
  lostBy: Record<string, number>;
  /** Frames neither written nor lost yet. */
  pending: number;
  /** Successful dials after the first. */
  reconnects: number;
  /** The last connection or write error, or null. */
  lastError: string | null;
  state: ConnectionState;
  bytes: number;
  writes: number;
  /** Times senders were asked to wait for a socket to drain. */
  drainWaits: number;
}

/** A TLS certificate problem: not retried (another attempt meets the same certificate). */
export class TlsCertificateError extends Error {
  override readonly name = "TlsCertificateError";
  constructor(readonly endpoint: string, readonly code: string, detail: string) {
    super(`TLS certificate problem with ${endpoint} (${code}): ${detail}; not retried: fix the client's tls options (ca, cert, key, servername) or the server's certificate`);
  }
}

const CERT_CODES = /CERT|SELF_SIGNED|ALTNAME|HOSTNAME_MISMATCH|UNKNOWN_CA|ALERT_BAD_CERTIFICATE|ALERT_CERTIFICATE|ALERT_UNSUPPORTED_CERTIFICATE|ALERT_ACCESS_DENIED/;

/** Whether an error is a TLS certificate problem (ours or the peer's verdict on ours). */
export function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && CERT_CODES.test(code);
}

interface Batch {
  data: Buffer;
  frames: number;
}

const FREE_BUFFERS = 4;

const describe = (error: unknown): string => {
  const e = error as { code?: unknown; message?: unknown } | null;
  return typeof e?.code === "string" ? `${e.code}` : String(e?.message ?? error);
};

export class EndpointConnection {
  /** The batch being filled: callers append frames, then call {@link queued}. */
  readonly encoder: IngestEncoder;
  readonly endpoint: string;
  private readonly counts = { queued: 0, written: 0, lost: 0, reconnects: 0, bytes: 0, writes: 0, drainWaits: 0 };
  private readonly lostBy: Record<string, number> = {};
  private lastError: string | null = null;
  /** Frames in the batch being filled. */
  private batchFrames = 0;
  private socket: net.Socket | undefined;
  private dialing = false;
  /** The last dial failed and no socket came since. */
  private down = false;
  private everConnected = false;
  /** Batches waiting for a socket (none, or one that needs to drain), in order. */
  private waiting: Batch[] = [];
  private waitingBytes = 0;
  private inflightFrames = 0;
  private inflightWrites = 0;
  private timer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  /** A socket stalled: until one drains again, senders are not held back by this connection. */
  private stalled = false;
  private blocked: Promise<void> | undefined;
  private unblock: (() => void) | undefined;
  private idle: Array<() => void> = [];
  private readonly free: Buffer[] = [];
  private readonly bufferBytes: number;
  private closed = false;
  /** Why we destroyed a socket ourselves: names the loss of the writes it still held. */
  private readonly killed = new WeakMap<net.Socket, string>();
  private sleepTimer: NodeJS.Timeout | undefined;
  private wakeSleep: (() => void) | undefined;
  /** Set once the connection gave up for good. */
  failure: TlsCertificateError | undefined;
  /** Called once when the connection fails for good. */
  onFatal: ((error: TlsCertificateError) => void) | undefined;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.flushBatch();
  };

  constructor(readonly host: string, readonly port: number, private readonly options: ConnectionOptions) {
    // Room for a full batch plus a typical frame, so a batch rarely needs to grow.
    this.bufferBytes = options.batchBytes + 4096;
    this.encoder = new IngestEncoder({ m3Version: options.m3Version, initialBytes: this.bufferBytes, ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }) });
    this.endpoint = `${host}:${port}`;
  }

  get state(): ConnectionState {
    if (this.failure !== undefined) return "failed";
    if (this.closed) return "closed";
    if (this.socket !== undefined) return "connected";
    if (this.down) return "down";
    return this.dialing ? "connecting" : "idle";
  }

  /** What this connection did so far. */
  stats(): ConnectionStats {
    const c = this.counts;
    return {
      queued: c.queued, written: c.written, lost: c.lost, lostBy: { ...this.lostBy },
      pending: c.queued - c.written - c.lost, reconnects: c.reconnects, lastError: this.lastError, state: this.state,
      bytes: c.bytes, writes: c.writes, drainWaits: c.drainWaits,
    };
  }

  /**
   * Call after appending `frames` frames to {@link encoder}: sends a full batch, arms the
   * flush timer otherwise. Returns a promise while senders should wait (a live socket is full), else undefined.
   */
  queued(frames = 1): Promise<void> | undefined {
    this.counts.queued += frames;
    this.batchFrames += frames;
    if (this.encoder.length >= this.options.batchBytes) this.flushBatch();
    else if (this.timer === undefined) this.timer = setTimeout(this.onTimer, this.options.flushIntervalMs);
    return this.blocked;
  }

  private lose(frames: number, reason: string): void {
    if (frames === 0) return;
    this.counts.lost += frames;
    this.lostBy[reason] = (this.lostBy[reason] ?? 0) + frames;
  }

  /** Hands the batch being filled to the socket (or to the queue). */
  flushBatch(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const encoder = this.encoder;
    if (encoder.length === 0) return;
    const batch = { data: encoder.buffer.subarray(0, encoder.length), frames: this.batchFrames };
    encoder.buffer = this.free.pop() ?? Buffer.allocUnsafe(this.bufferBytes);
    encoder.length = 0;
    this.batchFrames = 0;
    if (this.failure !== undefined || this.closed) {
      this.lose(batch.frames, this.failure !== undefined ? "TLS certificate error" : "sent after close");
      return;
    }
    const socket = this.socket;
    if (socket !== undefined && this.waiting.length === 0 && !socket.writableNeedDrain) {
      this.write(socket, batch);
      return;
    }
    this.waiting.push(batch);
    this.waitingBytes += batch.data.length;
    this.pump();
  }

  /** Writes queued batches while the socket takes them; bounds the queue otherwise. */
  private pump(): void {
    const socket = this.socket;
    while (socket !== undefined && !socket.writableNeedDrain && this.waiting.length > 0) {
      const batch = this.waiting.shift() as Batch;
      this.waitingBytes -= batch.data.length;
      this.write(socket, batch);
    }
    if (this.waiting.length === 0) return;
    if (socket === undefined) {
      this.ensureConnected();
      // Still dialing (no dial has failed yet): hold senders back as a full socket would.
      if (!this.down && this.waitingBytes > 8 * this.options.batchBytes) this.block();
    }
    // Nobody takes these now: keep at most maxQueueBytes, losing the oldest first.
    const reason = socket === undefined ? "queue full while unreachable" : "queue full while the peer does not read";
    while (this.waitingBytes > this.options.maxQueueBytes && this.waiting.length > 1) {
      const dropped = this.waiting.shift() as Batch;
      this.waitingBytes -= dropped.data.length;
      this.lose(dropped.frames, reason);
    }
    this.settle();
  }

  private write(socket: net.Socket, batch: Batch): void {
    const c = this.counts;
    c.writes++;
    c.bytes += batch.data.length;
    this.inflightFrames += batch.frames;
    this.inflightWrites++;
    const data = batch.data;
    const full = data.buffer.byteLength === this.bufferBytes ? Buffer.from(data.buffer, data.byteOffset, this.bufferBytes) : undefined;
    const ok = socket.write(data, (error) => {
      this.inflightFrames -= batch.frames;
      this.inflightWrites--;
      if (error) {
        const killed = this.killed.get(socket);
        if (killed === undefined) this.lastError = `write to ${this.endpoint} failed: ${error.message}`;
        this.lose(batch.frames, killed ?? `write failed: ${describe(error)}`);
      } else {
        c.written += batch.frames;
        // The socket is done with the buffer: reuse it (only after a successful write: a failed one may still hold it).
        if (full !== undefined && this.free.length < FREE_BUFFERS) this.free.push(full);
      }
      this.settle();
    });
    if (!ok) this.congested(socket);
  }

  /** The socket is full: hold senders back (unless it stalled before) and start the stall clock. */
  private congested(socket: net.Socket): void {
    if (!this.stalled) this.block();
    if (this.stallTimer !== undefined) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.socket !== socket || !socket.writableNeedDrain) return;
      this.stalled = true;
      const error = new Error(`write stalled for ${this.options.writeTimeoutMs} ms (peer not reading)`);
      this.lastError = `${this.endpoint}: ${error.message}`;
      this.killed.set(socket, "write stalled (peer not reading)");
      socket.destroy(error); // pending writes fail: counted lost under that reason
      this.release();
    }, this.options.writeTimeoutMs);
  }

  private block(): void {
    if (this.blocked !== undefined) return;
    this.counts.drainWaits++;
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

  /** Nothing of this connection can make progress now without a socket, or everything is written. */
  private isSettled(): boolean {
    if (this.inflightWrites > 0 || this.encoder.length > 0) return false;
    return this.waiting.length === 0 || this.down || this.failure !== undefined || this.closed;
  }

  /** Resolves flush() waiters once settled. */
  private settle(): void {
    if (this.idle.length === 0 || !this.isSettled()) return;
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }

  private ensureConnected(): void {
    if (this.dialing || this.closed || this.failure !== undefined || this.socket !== undefined) return;
    this.dialing = true;
    void this.dialLoop();
  }

  /** Dials until connected, closed, or a fatal (certificate) error; capped exponential backoff. */
  private async dialLoop(): Promise<void> {
    let delay = this.options.reconnectDelayMs;
    while (!this.closed) {
      try {
        const socket = await this.dialOnce();
        this.dialing = false;
        if (this.closed) {
          socket.destroy();
          return;
        }
        if (this.everConnected) this.counts.reconnects++;
        this.everConnected = true;
        this.down = false;
        this.socket = socket;
        this.pump();
        if (!socket.writableNeedDrain) this.release();
        this.settle();
        return;
      } catch (error) {
        this.lastError = `cannot connect to ${this.endpoint}: ${(error as Error).message}`;
        if (isCertificateError(error)) {
          this.fail(error);
          this.dialing = false;
          return;
        }
        this.down = true;
        this.release(); // senders do not wait for an endpoint that is down: its queue is bounded instead
        this.settle();
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.options.maxReconnectDelayMs);
      }
    }
    this.dialing = false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeSleep = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  /** Gives up for good: everything waiting is lost, later batches too, senders are released. */
  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    const e = error as { code?: string; message?: string };
    this.failure = new TlsCertificateError(this.endpoint, e.code ?? "TLS", e.message ?? String(error));
    this.lastError = this.failure.message;
    for (const batch of this.waiting) this.lose(batch.frames, "TLS certificate error");
    this.waiting = [];
    this.waitingBytes = 0;
    this.socket?.destroy();
    this.release();
    this.settle();
    this.onFatal?.(this.failure);
  }

  private dialOnce(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      let socket: net.Socket;
      try {
        socket = this.options.connect(this.host, this.port);
      } catch (error) {
        // e.g. an unreadable key in the TLS options: a configuration problem, not retried.
        reject(Object.assign(error as Error, { code: (error as { code?: string }).code ?? "ERR_TLS_CERT_OPTIONS" }));
        return;
      }
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error(`connect timeout after ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
      socket.once(this.options.readyEvent ?? "connect", () => {
        clearTimeout(timer);
        socket.removeListener("error", onDialError);
        socket.on("error", (error) => {
          this.lastError = `${this.endpoint}: ${error.message}`;
          if (isCertificateError(error)) this.fail(error); // e.g. the server refused our client certificate
        });
        socket.on("drain", () => {
          if (this.stallTimer !== undefined) {
            clearTimeout(this.stallTimer);
            this.stallTimer = undefined;
          }
          this.stalled = false;
          this.pump();
          if (!socket.writableNeedDrain) this.release();
        });
        socket.once("close", () => {
          if (this.stallTimer !== undefined) {
            clearTimeout(this.stallTimer);
            this.stallTimer = undefined;
          }
          if (this.socket === socket) this.socket = undefined;
          this.release(); // nobody waits for a dead socket's drain
          // Redial at once, with or without data: a replica that comes back should find us connected.
          if (!this.closed && this.failure === undefined) this.ensureConnected();
          this.settle();
        });
        socket.resume(); // the server never writes; keep the stream flowing so 'close' arrives
        resolve(socket);
      });
      const onDialError = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      socket.once("error", onDialError);
    });
  }

  /**
   * Sends the pending batch; resolves once every frame so far was written or lost, or waits
   * in the queue of an endpoint that is down (redialing; see {@link ConnectionStats.pending}).
   */
  flush(): Promise<void> {
    this.flushBatch();
    if (this.isSettled()) return Promise.resolve();
    this.ensureConnected();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Flushes, then ends the connection. Waits until `deadline` (ms since the epoch) at most: what is
   * not written by then is lost ("close timeout"), and what waits for an endpoint that is down is lost
   * at once ("unreachable at close").
   */
  async close(deadline: number): Promise<void> {
    this.flushBatch();
    const remaining = () => Math.max(0, deadline - Date.now());
    const settled = this.isSettled() ? Promise.resolve() : new Promise<void>((resolve) => this.idle.push(resolve));
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise<void>((resolve) => { timeout = setTimeout(resolve, remaining()); })]);
    clearTimeout(timeout);
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.sleepTimer !== undefined) clearTimeout(this.sleepTimer);
    this.wakeSleep?.();
    const reason = this.down ? "unreachable at close" : "close timeout";
    for (const batch of this.waiting) this.lose(batch.frames, reason);
    this.waiting = [];
    this.waitingBytes = 0;
    const socket = this.socket;
    if (socket !== undefined && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.killed.set(socket, "close timeout");
          socket.destroy(new Error("close timeout"));
        }, remaining());
        socket.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
        socket.end();
      });
    }
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.release();
    this.settle();
  }
}
