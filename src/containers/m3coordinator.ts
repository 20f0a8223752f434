/** m3coordinator with the admin API only (noop-etcd backend): creates placements and topics. */
import { AbstractStartedContainer, type StartedTestContainer } from "testcontainers";
import { M3AdminClient } from "../admin/admin-client";
import { LOOPBACK } from "../ports";
import { HostNetworkContainer } from "./host-network";
import type { LogBuffer } from "./log-buffer";
import { LoopbackHttpWaitStrategy } from "./loopback-http-wait";

export const COORDINATOR_CONFIG_PATH = "/etc/m3coordinator/m3coordinator.yml";

export class M3CoordinatorContainer extends HostNetworkContainer {
  constructor(image: string, clusterId: string, private readonly port: number, configYaml: string) {
    super(image, clusterId, "m3coordinator");
    this.withEntrypoint(["/bin/m3coordinator"])
      .withCommand(["-f", COORDINATOR_CONFIG_PATH])
      .withCopyContentToContainer([{ content: configYaml, target: COORDINATOR_CONFIG_PATH }])
      .withWaitStrategy(new LoopbackHttpWaitStrategy(`http://${LOOPBACK}:${port}/health`))
      .withStartupTimeout(60_000);
  }

  override async start(): Promise<StartedM3CoordinatorContainer> {
    return new StartedM3CoordinatorContainer(await super.start(), this.port, this.logBuffer);
  }
}

export class StartedM3CoordinatorContainer extends AbstractStartedContainer {
  readonly admin: M3AdminClient;

  constructor(started: StartedTestContainer, private readonly port: number, readonly logBuffer: LogBuffer) {
    super(started);
    this.admin = new M3AdminClient(this.getAdminUrl());
  }

  /** Admin API port on 127.0.0.1. */
  getPort(): number {
    return this.port;
  }

  /** `http://127.0.0.1:<port>`: placement and topic admin API. */
  getAdminUrl(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }
}
