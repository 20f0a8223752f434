/**
 * The fault proxy of a `faults: true` cluster: one Toxiproxy server on the host network, its API
 * on the cluster's loopback host. The cluster creates its proxies through the API once it answers.
 */
import type { StartedTestContainer } from "testcontainers";
import type { FaultsPlan } from "../faults/plan";
import { ToxiproxyClient } from "../faults/toxiproxy-client";
import { ControllableContainer } from "./controllable";
import { HostNetworkContainer } from "./host-network";
import type { LogBuffer } from "./log-buffer";
import { LoopbackHttpWaitStrategy } from "./loopback-http-wait";

export class ToxiproxyContainer extends HostNetworkContainer {
  private readonly readiness: LoopbackHttpWaitStrategy;

  constructor(private readonly plan: FaultsPlan) {
    super(plan.image, plan.labels);
    this.readiness = new LoopbackHttpWaitStrategy(`${plan.apiUrl}/version`);
    this.withEntrypoint(["/usr/local/bin/toxiproxy"])
      .withCommand(plan.args)
      .withWaitStrategy(this.readiness)
      .withStartupTimeout(30_000);
  }

  /** Starts the server and creates every proxy of the plan (each listens once this resolves). */
  override async start(): Promise<StartedToxiproxyContainer> {
    const started = new StartedToxiproxyContainer(await super.start(), this.plan, this.logBuffer, this.readiness);
    for (const proxy of this.plan.proxies) {
      await started.client.createProxy({ name: proxy.name, listen: proxy.listen, upstream: proxy.upstream }).catch((error: Error) => {
        throw new Error(`Toxiproxy could not create proxy ${proxy.name} (listen ${proxy.listen} → ${proxy.upstream}): ${error.message}`, { cause: error });
      });
    }
    return started;
  }
}

export class StartedToxiproxyContainer extends ControllableContainer {
  /** Client of Toxiproxy's API. */
  readonly client: ToxiproxyClient;

  constructor(started: StartedTestContainer, readonly plan: FaultsPlan, logBuffer: LogBuffer, readiness: LoopbackHttpWaitStrategy) {
    super(started, logBuffer, readiness, "toxiproxy");
    this.client = new ToxiproxyClient(plan.apiUrl);
  }

  /** `http://<host>:<port>` of Toxiproxy's API. */
  getApiUrl(): string {
    return this.plan.apiUrl;
  }
}
