/** The m3coordinator handle: the admin API only (noop-etcd backend), which creates placements and topics. */
import type { StartedTestContainer } from "testcontainers";
import { M3AdminClient } from "../m3/admin-client";
import type { ClusterPlan } from "../plan/plan";
import { ControllableContainer } from "./controllable";
import type { LogBuffer } from "./log-buffer";

/** The running m3coordinator of a cluster. */
export class StartedM3CoordinatorContainer extends ControllableContainer {
  /** Client of the admin API (placements, topics). */
  readonly admin: M3AdminClient;

  constructor(started: StartedTestContainer, logBuffer: LogBuffer, private readonly plan: ClusterPlan["coordinator"]) {
    super(started, logBuffer, plan.container);
    this.admin = new M3AdminClient(this.getAdminUrl());
  }

  /** Admin API port. */
  getPort(): number {
    return this.plan.port;
  }

  /** `http://<host>:<port>`: placement and topic admin API. */
  getAdminUrl(): string {
    return this.plan.adminUrl;
  }
}
