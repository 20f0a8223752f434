/**
 * Raw byte sender: writes lines to a node's raw TCP endpoint, like the seed's
 * `echo … | nc host port`. The aggregator reads a framed protobuf stream, so
 * text lines are NOT valid metrics: it logs a decode error and closes the
 * connection. Useful to test exactly that, or to send pre-encoded bytes; use
 * the ingest client for real metrics.
 */
import * as net from "node:net";
import * as tls from "node:tls";

/**
 * Writes the lines (each followed by "\n") or raw bytes, half-closes, and resolves with the byte count once the socket closed.
 * With `tlsOptions` the bytes go over TLS (a cluster with `tls.mode: "enforced"` closes plaintext connections).
 */
export function sendRaw(host: string, port: number, data: string[] | Uint8Array, timeoutMs = 10_000, tlsOptions?: tls.ConnectionOptions): Promise<number> {
  const payload = data instanceof Uint8Array ? Buffer.from(data) : Buffer.from(data.map((l) => `${l}\n`).join(""));
  return new Promise((resolve, reject) => {
    const socket = tlsOptions === undefined ? net.connect({ host, port }) : tls.connect({ ...tlsOptions, host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`no close from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    let written = false;
    socket.once(tlsOptions === undefined ? "connect" : "secureConnect", () => socket.end(payload, () => { written = true; }));
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
