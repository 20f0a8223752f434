/**
 * The etcd handle: single member, data on tmpfs (all decided by its spec in the plan).
 * (@testcontainers/etcd exists only for testcontainers 12.1+, which needs
 * Node 22, and maps ports instead of using the host network.)
 */
import type { StartedTestContainer } from "testcontainers";
import type { ClusterPlan } from "../plan/plan";
import { ControllableContainer } from "./controllable";
import type { LogBuffer } from "./log-buffer";
import { type EtcdNetwork, FaultsDisabledError } from "../faults/network";

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

  private linkFaults: EtcdNetwork | undefined;

  /**
   * Faults on every link to etcd, every node's and the coordinator's (clusters started with
   * `faults: true`): `cut()`, `heal()`, `latency({ ms })`… On other clusters they throw naming the option.
   */
  get network(): EtcdNetwork {
    if (this.linkFaults === undefined) throw new FaultsDisabledError("etcd.network", "of this etcd");
    return this.linkFaults;
  }

  /** @internal The cluster hands etcd its link faults once. */
  setNetwork(network: EtcdNetwork): void {
    this.linkFaults = network;
  }
}
