/**
 * One persistent raw TCP connection to an aggregator endpoint: batches frames
 * into large writes, waits for 'drain' when the socket buffer is full
 * (backpressure), and reconnects with backoff when the connection drops (the
 * aggregator closes a connection on a bad frame and never writes back).
 */
import * as net from "node:net";

export interface ConnectionOptions {
  /** Flush a batch once it holds this many bytes. */
  batchBytes: number;
  /** …or after this many milliseconds. */
  flushIntervalMs: number;
  connectTimeoutMs: number;
  /** First reconnect delay; doubles up to maxReconnectDelayMs. */
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  /** How the socket is made (a hook for TLS). */
  connect: (host: string, port: number) => net.Socket;
}

export class EndpointConnection {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private batch: Buffer[] = [];
  private batchSize = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  readonly stats = { frames: 0, bytes: 0, writes: 0, reconnects: 0, drainWaits: 0 };

  constructor(readonly host: string, readonly port: number, private readonly options: ConnectionOptions) {}

  /** Queues a frame; resolves when it was handed to the socket (after any backpressure wait). */
  send(frame: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`connection to ${this.host}:${this.port} is closed`));
    this.batch.push(frame);
    this.batchSize += frame.length;
    this.stats.frames++;
    if (this.batchSize >= this.options.batchBytes) return this.flush();
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.options.flushIntervalMs);
    return this.writing;
  }

  /** Writes the pending batch; resolves once the socket took it. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.batchSize === 0) return this.writing;
    const data = Buffer.concat(this.batch, this.batchSize);
    this.batch = [];
    this.batchSize = 0;
    this.writing = this.writing.then(() => this.write(data));
    return this.writing;
  }

  private async write(data: Buffer): Promise<void> {
    const socket = await this.ensureConnected();
    this.stats.writes++;
    this.stats.bytes += data.length;
    if (!socket.write(data)) {
      this.stats.drainWaits++;
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.once("drain", done);
        socket.once("close", done);
      });
    }
  }

  private ensureConnected(): Promise<net.Socket> {
    if (this.socket !== undefined && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.dial().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async dial(): Promise<net.Socket> {
    let delay = this.options.reconnectDelayMs;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error(`connection to ${this.host}:${this.port} is closed`);
      try {
        const socket = await this.dialOnce();
        if (attempt > 0 || this.stats.writes > 0) this.stats.reconnects++;
        this.socket = socket;
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
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.on("error", () => undefined); // a drop shows as 'close'; the next write reconnects
        socket.resume(); // the server never writes; keep the stream flowing so 'close' arrives
        resolve(socket);
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
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
