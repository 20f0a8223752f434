/** m3coordinator with the admin API only (noop-etcd backend): creates placements and topics. */
import type { StartedTestContainer } from "testcontainers";
import { M3AdminClient } from "../m3/admin-client";
import { ControllableContainer } from "./controllable";
import { HostNetworkContainer } from "./host-network";
import type { LogBuffer } from "./log-buffer";
import { LoopbackHttpWaitStrategy } from "./loopback-http-wait";

export const COORDINATOR_CONFIG_PATH = "/etc/m3coordinator/m3coordinator.yml";

export class M3CoordinatorContainer extends HostNetworkContainer {
  private readonly readiness: LoopbackHttpWaitStrategy;

  constructor(image: string, labels: Record<string, string>, private readonly host: string, private readonly port: number, configYaml: string) {
    super(image, labels);
    this.readiness = coordinatorReadiness(host, port);
    this.withEntrypoint(["/bin/m3coordinator"])
      .withCommand(["-f", COORDINATOR_CONFIG_PATH])
      .withCopyContentToContainer([{ content: configYaml, target: COORDINATOR_CONFIG_PATH }])
      .withWaitStrategy(this.readiness)
      .withStartupTimeout(60_000);
  }

  override async start(): Promise<StartedM3CoordinatorContainer> {
    return new StartedM3CoordinatorContainer(await super.start(), this.host, this.port, this.logBuffer, this.readiness);
  }
}

/** The coordinator is ready when its admin listener answers /health. */
export function coordinatorReadiness(host: string, port: number): LoopbackHttpWaitStrategy {
  return new LoopbackHttpWaitStrategy(`http://${host}:${port}/health`);
}

export class StartedM3CoordinatorContainer extends ControllableContainer {
  readonly admin: M3AdminClient;

  constructor(started: StartedTestContainer, private readonly host: string, private readonly port: number, logBuffer: LogBuffer, readiness: LoopbackHttpWaitStrategy) {
    super(started, logBuffer, readiness, "m3coordinator");
    this.admin = new M3AdminClient(this.getAdminUrl());
  }

  /** Admin API port. */
  getPort(): number {
    return this.port;
  }

  /** `http://<host>:<port>`: placement and topic admin API. */
  getAdminUrl(): string {
    return `http://${this.host}:${this.port}`;
  }
}
