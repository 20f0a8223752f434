/**
 * This process's end of the relays of engines that run in network namespaces of this machine
 * (scripts/swarm-engines.sh, scripts/netns-relay.mjs): unix sockets belong to the file system,
 * not to a network namespace, so they carry connections between the test process (which only
 * ever uses 127.0.0.1) and the namespaces.
 *
 * - {@link RelayDialer}: a 127.0.0.1 listener per engine port, each connection piped to the
 *   engine's relay socket after a "<port>\n" header (the relay dials 127.0.0.1:<port> inside).
 * - {@link SinkRelay}: listens on the sink socket, where the relays forward the containers'
 *   connections to host.docker.internal:19000, and pipes them to the in-process sink.
 */
import * as fs from "node:fs";
import * as net from "node:net";

function pipe(a: net.Socket, b: net.Socket): void {
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
  a.pipe(b);
  b.pipe(a);
}

const listen = (server: net.Server, target: net.ListenOptions): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(target, () => resolve());
  });

const close = (server: net.Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** 127.0.0.1 ports of this process that lead to ports inside an engine's namespace. */
export class RelayDialer {
  private readonly servers = new Map<number, { server: net.Server; local: number }>();
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly relaySocket: string) {}

  /** The 127.0.0.1 port that leads to `port` inside the engine's namespace (one listener per port). */
  async expose(port: number): Promise<number> {
    const known = this.servers.get(port);
    if (known !== undefined) return known.local;
    const server = net.createServer((client) => {
      this.sockets.add(client);
      client.on("close", () => this.sockets.delete(client));
      const upstream = net.connect({ path: this.relaySocket });
      upstream.write(`${port}\n`); // queued before anything the client sends: the header comes first
      this.sockets.add(upstream);
      upstream.on("close", () => this.sockets.delete(upstream));
      pipe(client, upstream);
    });
    await listen(server, { host: "127.0.0.1", port: 0 });
    const local = (server.address() as net.AddressInfo).port;
    this.servers.set(port, { server, local });
    return local;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([...this.servers.values()].map((s) => close(s.server)));
    this.servers.clear();
  }
}

/** The sink socket: containers' connections (through the relays) to the in-process sink on 127.0.0.1. */
export class SinkRelay {
  private readonly sockets = new Set<net.Socket>();
  private constructor(private readonly server: net.Server) {}

  static async start(socketPath: string, sinkPort: number): Promise<SinkRelay> {
    fs.rmSync(socketPath, { force: true });
    let relay: SinkRelay | undefined;
    const server = net.createServer((container) => {
      const sink = net.connect({ host: "127.0.0.1", port: sinkPort });
      for (const s of [container, sink]) {
        relay?.sockets.add(s);
        s.on("close", () => relay?.sockets.delete(s));
      }
      pipe(container, sink);
    });
    relay = new SinkRelay(server);
    await listen(server, { path: socketPath });
    return relay;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await close(this.server);
  }
}
