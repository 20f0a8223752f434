/**
 * How this process reaches the pods of a namespace without any route to them:
 * - {@link KubeProxyRelay}: plain HTTP on 127.0.0.1 to the API server's service and pod proxy
 *   (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/…`), credentials added here, so the existing
 *   HTTP clients (admin API, node API) work on an ordinary `http://127.0.0.1:…` base URL;
 * - {@link KubeDialRelay}: a 127.0.0.1 TCP port per pod port, each connection carried by a
 *   port-forward (the dial map of raw TCP: ingest from this process).
 */
import * as http from "node:http";
import * as net from "node:net";
import { type KubeApi, namespaced } from "./api";

/** Request headers passed on to the API server (the admin API reads its own, e.g. Topic-Name). */
const DROPPED_HEADERS = new Set(["host", "connection", "authorization", "content-length", "transfer-encoding", "keep-alive"]);

/** A local HTTP server forwarding `/<services|pods>/<name>:<port>/<path>` to the API server's proxy of namespace `namespace`. */
export class KubeProxyRelay {
  private constructor(private readonly server: http.Server, readonly port: number) {}

  /** Listens on 127.0.0.1 (a free port). */
  static async start(api: KubeApi, namespace: string): Promise<KubeProxyRelay> {
    const server = http.createServer((req, res) => {
      const match = /^\/(services|pods)\/([a-z0-9.-]+:\d+)(\/.*)?$/.exec(req.url ?? "");
      if (match === null) {
        res.writeHead(404, { "content-type": "text/plain" }).end(`not a proxied path: ${req.url ?? ""} (want /services|pods/NAME:PORT/…)`);
        return;
      }
      const [, kind, target, rest] = match as unknown as [string, string, string, string | undefined];
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) if (!DROPPED_HEADERS.has(name) && typeof value === "string") headers[name] = value;
        const body = chunks.length === 0 ? undefined : Buffer.concat(chunks).toString("utf8");
        api.request(req.method ?? "GET", namespaced(namespace, `${kind}/${target}/proxy${rest ?? "/"}`), { body, headers, contentType: headers["content-type"], timeoutMs: 30_000 })
          .then((answer) => res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.text))
          .catch((error: unknown) => res.writeHead(502, { "content-type": "text/plain" }).end(`the API server did not answer: ${(error as Error).message}`));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, resolve);
    });
    return new KubeProxyRelay(server, (server.address() as net.AddressInfo).port);
  }

  /** `http://127.0.0.1:<port>/<kind>/<name>:<target>`: a base URL for an HTTP client of that pod or service port. */
  urlOf(kind: "services" | "pods", name: string, target: number): string {
    return `http://127.0.0.1:${this.port}/${kind}/${name}:${target}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** 127.0.0.1 ports whose connections go to a pod's port through port-forwards (opened per connection). */
export class KubeDialRelay {
  private readonly servers: net.Server[] = [];
  constructor(private readonly api: KubeApi, private readonly namespace: string) {}

  /** A 127.0.0.1 `host:port` that reaches `pod`:`port`. */
  async expose(pod: string, port: number): Promise<string> {
    const forward = await this.api.portForward();
    const server = net.createServer((socket) => {
      forward.portForward(this.namespace, pod, [port], socket, null, socket).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, resolve);
    });
    this.servers.push(server);
    return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
