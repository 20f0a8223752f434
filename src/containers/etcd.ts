/**
 * etcd, single member, data on tmpfs, client and peer listeners on 127.0.0.1.
 * (@testcontainers/etcd exists only for testcontainers 12.1+, which needs
 * Node 22, and maps ports instead of using the host network.)
 */
import type { StartedTestContainer } from "testcontainers";
import { ControllableContainer } from "./controllable";
import type { ClusterLabels } from "../labels";
import { HostNetworkContainer } from "./host-network";
import type { LogBuffer } from "./log-buffer";
import { LoopbackHttpWaitStrategy } from "./loopback-http-wait";

const DATA_DIR = "/var/lib/etcd";

export class EtcdContainer extends HostNetworkContainer {
  private readonly readiness: LoopbackHttpWaitStrategy;

  constructor(image: string, cluster: ClusterLabels, private readonly host: string, private readonly clientPort: number, peerPort: number) {
    super(image, cluster, "etcd", { client: clientPort, peer: peerPort });
    const client = `http://${host}:${clientPort}`;
    const peer = `http://${host}:${peerPort}`;
    this.readiness = etcdReadiness(host, clientPort);
    this.withEntrypoint(["/usr/local/bin/etcd"])
      .withCommand([
        "--name", "etcd0",
        "--data-dir", DATA_DIR,
        "--listen-client-urls", client,
        "--advertise-client-urls", client,
        "--listen-peer-urls", peer,
        "--initial-advertise-peer-urls", peer,
        "--initial-cluster", `etcd0=${peer}`,
        "--initial-cluster-state", "new",
        "--logger", "zap",
        "--log-level", "warn",
        // One member on loopback: a 10 ms heartbeat makes it leader in ~0.1 s instead of ~1 s.
        "--heartbeat-interval", "10",
        "--election-timeout", "100",
      ])
      .withTmpFs({ [DATA_DIR]: "rw" })
      .withWaitStrategy(this.readiness)
      .withStartupTimeout(30_000);
  }

  override async start(): Promise<StartedEtcdContainer> {
    return new StartedEtcdContainer(await super.start(), this.host, this.clientPort, this.logBuffer, this.readiness);
  }
}

/** etcd is ready when /health says so. */
export function etcdReadiness(host: string, clientPort: number): LoopbackHttpWaitStrategy {
  return new LoopbackHttpWaitStrategy(`http://${host}:${clientPort}/health`, (status, body) => status === 200 && body.includes('"health":"true"'));
}

export class StartedEtcdContainer extends ControllableContainer {
  constructor(started: StartedTestContainer, private readonly host: string, private readonly clientPort: number, logBuffer: LogBuffer, readiness: LoopbackHttpWaitStrategy) {
    super(started, logBuffer, readiness, "etcd");
  }

  /** Client port (on the cluster's host, 127.0.0.1 by default). */
  getClientPort(): number {
    return this.clientPort;
  }

  /** `http://<host>:<port>`, what etcd clients (and m3) dial. */
  getClientEndpoint(): string {
    return `http://${this.host}:${this.clientPort}`;
  }
}
