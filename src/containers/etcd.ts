/**
 * etcd, single member, data on tmpfs, client and peer listeners on 127.0.0.1.
 * (@testcontainers/etcd exists only for testcontainers 12.1+, which needs
 * Node 22, and maps ports instead of using the host network.)
 */
import type { StartedTestContainer } from "testcontainers";
import { ControllableContainer } from "./controllable";
import { ETCD_DATA_DIR } from "../plan/plan";
import { HostNetworkContainer } from "./host-network";
import type { LogBuffer } from "./log-buffer";
import { LoopbackHttpWaitStrategy } from "./loopback-http-wait";

export class EtcdContainer extends HostNetworkContainer {
  private readonly readiness: LoopbackHttpWaitStrategy;

  /** `args`: etcd's command line from the plan (etcdArgs in plan/plan.ts); its data dir is a tmpfs. */
  constructor(image: string, labels: Record<string, string>, private readonly host: string, private readonly clientPort: number, args: string[]) {
    super(image, labels);
    this.readiness = etcdReadiness(host, clientPort);
    this.withEntrypoint(["/usr/local/bin/etcd"])
      .withCommand(args)
      .withTmpFs({ [ETCD_DATA_DIR]: "rw" })
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
