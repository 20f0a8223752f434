/**
 * The fault proxy handle of a `faults: true` cluster: one Toxiproxy server (its spec is in the
 * plan), and the proxies of the plan, created through its API once it answers.
 */
import type { StartedTestContainer } from "testcontainers";
import type { ClusterPlan } from "../plan/plan";
import { ToxiproxyClient } from "../faults/toxiproxy-client";
import { ControllableContainer } from "./controllable";
import type { LogBuffer } from "./log-buffer";

export class StartedToxiproxyContainer extends ControllableContainer {
  /** Client of Toxiproxy's API. */
  readonly client: ToxiproxyClient;

  constructor(started: StartedTestContainer, logBuffer: LogBuffer, readonly plan: NonNullable<ClusterPlan["faults"]>) {
    super(started, logBuffer, plan.container);
    this.client = new ToxiproxyClient(plan.apiUrl);
  }

  /** Creates every proxy of the plan (each listens once this resolves); throws naming the proxy that failed. */
  async createProxies(): Promise<void> {
    for (const proxy of this.plan.proxies) {
      await this.client.createProxy({ name: proxy.name, listen: proxy.listen, upstream: proxy.upstream }).catch((error: Error) => {
        throw new Error(`Toxiproxy could not create proxy ${proxy.name} (listen ${proxy.listen} → ${proxy.upstream}): ${error.message}`, { cause: error });
      });
    }
  }

  /** `http://<host>:<port>` of Toxiproxy's API. */
  getApiUrl(): string {
    return this.plan.apiUrl;
  }
}
