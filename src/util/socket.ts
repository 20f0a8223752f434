/**
 * Raw TCP sockets, in one place: {@link dial} (plaintext or TLS), {@link tcpProbe} (does a port
 * accept connections) and {@link sendRaw}, the raw byte sender that writes lines to a node's raw TCP
 * endpoint, like the seed's `echo … | nc host port`. The aggregator reads a framed protobuf stream, so
 * text lines are NOT valid metrics: it logs a decode error and closes the
 * connection. Useful to test exactly that, or to send pre-encoded bytes; use
 * the ingest client for real metrics.
 */
import * as net from "node:net";
import * as tls from "node:tls";

/** A plaintext or (with `tlsOptions`) TLS connection; `onReady` runs once it carries bytes (connect, or secureConnect). */
export function dial(host: string, port: number, tlsOptions?: tls.ConnectionOptions, onReady?: () => void): net.Socket {
  return tlsOptions === undefined ? net.connect({ host, port }, onReady) : tls.connect({ ...tlsOptions, host, port }, onReady);
}

/** Resolves undefined when host:port accepts a TCP connection within `timeoutMs`, else with why not. */
export function tcpProbe(host: string, port: number, timeoutMs = 1_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (error?: string) => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(timeoutMs, () => done("connect timeout"));
    socket.once("connect", () => done());
    socket.once("error", (error) => done(error.message));
  });
}

/**
 * Writes the lines (each followed by "\n") or raw bytes, half-closes, and resolves with the byte count once the socket closed.
 * With `tlsOptions` the bytes go over TLS (a cluster with `tls.mode: "enforced"` closes plaintext connections).
 */
export function sendRaw(host: string, port: number, data: string[] | Uint8Array, timeoutMs = 10_000, tlsOptions?: tls.ConnectionOptions): Promise<number> {
  const payload = data instanceof Uint8Array ? Buffer.from(data) : Buffer.from(data.map((l) => `${l}\n`).join(""));
  return new Promise((resolve, reject) => {
    let written = false;
    const socket = dial(host, port, tlsOptions, () => socket.end(payload, () => { written = true; }));
    const timer = setTimeout(() => socket.destroy(new Error(`no close from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // Over TLS m3 closes a connection it cannot decode with unread bytes (our close_notify)
      // in its buffer, which resets it: the bytes were delivered all the same.
      if (written && error.code === "ECONNRESET") resolve(payload.length);
      else reject(new Error(`raw TCP send to ${host}:${port} failed: ${error.message}`, { cause: error }));
    });
    // The server never writes; drain whatever comes so 'close' can fire.
    socket.resume();
    socket.once("close", (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(payload.length);
    });
  });
}
