/**
 * The etcd handle: single member, data on tmpfs (all decided by its spec in the plan).
 * (@testcontainers/etcd exists only for testcontainers 12.1+, which needs
 * Node 22, and maps ports instead of using the host network.)
 */
import type { StartedTestContainer } from "testcontainers";
import type { ClusterPlan } from "../plan/plan";
import { ControllableContainer } from "./controllable";
import type { LogBuffer } from "./log-buffer";

/** The running etcd of a cluster. */
export class StartedEtcdContainer extends ControllableContainer {
  constructor(started: StartedTestContainer, logBuffer: LogBuffer, private readonly plan: ClusterPlan["etcd"]) {
    super(started, logBuffer, plan.container);
  }

  /** Client port (on the cluster's host, 127.0.0.1 by default). */
  getClientPort(): number {
    return this.plan.clientPort;
  }

  /** `http://<host>:<port>`, what etcd clients (and m3) dial. */
  getClientUrl(): string {
    return this.plan.url;
  }
}
