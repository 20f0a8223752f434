/**
 * Minimal client of delve's headless JSON-RPC API (v2): Go's net/rpc JSON
 * codec over TCP, one JSON object per request and per response.
 */
import * as net from "node:net";

/** Calls `RPCServer.<method>` and resolves with its result; rejects with delve's error or after `timeoutMs`. */
export function delveCall<T = unknown>(host: string, port: number, method: string, params: object = {}, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buffer = "";
    const timer = setTimeout(() => socket.destroy(new Error(`delve at ${host}:${port} did not answer ${method} within ${timeoutMs} ms`)), timeoutMs);
    socket.once("connect", () => socket.write(`${JSON.stringify({ method: `RPCServer.${method}`, params: [params], id: 1 })}\n`));
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let response: { result?: T; error?: string | null };
      try {
        response = JSON.parse(buffer);
      } catch {
        return; // not complete yet
      }
      clearTimeout(timer);
      socket.destroy();
      if (response.error) reject(new Error(`delve ${method}: ${response.error}`));
      else resolve(response.result as T);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`delve at ${host}:${port}: ${error.message}`, { cause: error }));
    });
  });
}

/**
 * Resumes a process stopped by `dlv exec` without --continue. Delve answers a
 * continue only when the process stops again, so this sends it and returns.
 */
export function delveContinue(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => {
      socket.write(`${JSON.stringify({ method: "RPCServer.Command", params: [{ name: "continue" }], id: 1 })}\n`, () => {
        // Keep the connection open briefly so delve reads the request, then leave it (multi-client server).
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
    });
    socket.once("error", (error) => reject(new Error(`delve at ${host}:${port}: ${error.message}`, { cause: error })));
  });
}
