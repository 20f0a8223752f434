/**
 * Attaching to a cluster that is already running (started by this or another
 * process): the cluster plan's inputs are in its containers' plan label, so
 * handles are rebuilt from the same plan without any state file. Used by reuse mode and by
 * the jest global-setup recipe.
 */
import type { Readable } from "node:stream";
import type Dockerode from "dockerode";
import type {
  CommitOptions, CopyToContainerOptions, ExecOptions, ExecResult, StartedTestContainer, StoppedTestContainer,
} from "testcontainers";
import { type ClusterPlan, decodePlanLabel, type NodePlan, planCluster } from "../plan/plan";
import { StartedM3AggregatorCluster } from "./started";
import { StartedEtcdContainer } from "../containers/etcd";
import { LogBuffer } from "../containers/log-buffer";
import { StartedM3AggregatorNode } from "../containers/m3aggregator";
import { StartedM3CoordinatorContainer } from "../containers/m3coordinator";
import { type ContainerSummary, containersWithLabel, dockerClient } from "../docker/client";
import { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE, LABEL_PLAN } from "../model/labels";
import { StartedToxiproxyContainer } from "../containers/toxiproxy";

/** The cluster is not there, or not whole. */
export class AttachError extends Error {
  override readonly name = "AttachError";
}

interface Wrapped {
  started: StartedTestContainer;
  logBuffer: LogBuffer;
  image: string;
}

/**
 * A Testcontainers `StartedTestContainer` for a container this process did not start.
 * Testcontainers (12.2) exports no way to wrap an existing container (its
 * `StartedGenericContainer` is internal, and `withReuse()` only finds containers it
 * created itself with reuse), so this is our own, on its public runtime client.
 * Host networking: nothing is port-mapped, so the mapped-port getters throw. The
 * fixture's handles override stop/restart (see ControllableContainer); the copy helpers
 * that need a tar builder are left out: `copyArchiveToContainer` takes a tar.
 */
export class AttachedContainer implements StartedTestContainer {
  constructor(
    private readonly container: Dockerode.Container,
    private readonly host: string,
    private readonly inspectResult: Dockerode.ContainerInspectInfo,
    private readonly name: string,
  ) {}

  getId(): string { return this.container.id; }
  getName(): string { return this.name; }
  getHost(): string { return this.host; }
  getHostname(): string { return this.inspectResult.Config.Hostname; }
  getLabels(): Record<string, string> { return this.inspectResult.Config.Labels ?? {}; }
  getNetworkNames(): string[] { return Object.keys(this.inspectResult.NetworkSettings.Networks); }
  getNetworkId(networkName: string): string { return this.network(networkName).NetworkID; }
  getIpAddress(networkName: string): string { return this.network(networkName).IPAddress; }

  private network(networkName: string): Dockerode.NetworkInfo {
    const network = this.inspectResult.NetworkSettings.Networks[networkName];
    if (network === undefined) throw new Error(`container ${this.name} is not on network ${networkName} (it is on: ${this.getNetworkNames().join(", ")})`);
    return network;
  }

  getFirstMappedPort(): number {
    throw new Error(`container ${this.name} runs in host network mode: no port is mapped (its ports are in label org.m3agg.ports)`);
  }

  getMappedPort(port: number | string): number {
    throw new Error(`container ${this.name} runs in host network mode: port ${port} is not mapped (its ports are in label org.m3agg.ports)`);
  }

  async stop(options: { timeout?: number; remove?: boolean } = {}): Promise<StoppedTestContainer> {
    const client = await dockerClient();
    await client.container.stop(this.container, { timeout: options.timeout ?? 10 });
    if (options.remove ?? true) await client.container.remove(this.container, { removeVolumes: true });
    return { getId: () => this.getId(), copyArchiveFromContainer: (path) => this.copyArchiveFromContainer(path) };
  }

  async restart(options: { timeout?: number } = {}): Promise<void> {
    await (await dockerClient()).container.restart(this.container, { timeout: options.timeout ?? 10 });
  }

  async commit(options: CommitOptions): Promise<string> {
    const { deleteOnExit: _ignored, changes, ...rest } = options;
    return (await dockerClient()).container.commit(this.container, { ...rest, changes: (changes ?? []).join("\n") });
  }

  async exec(command: string | string[], options?: Partial<ExecOptions>): Promise<ExecResult> {
    return (await dockerClient()).container.exec(this.container, Array.isArray(command) ? command : command.split(" "), options);
  }

  async logs(options?: { since?: number; tail?: number }): Promise<Readable> {
    return (await dockerClient()).container.logs(this.container, options);
  }

  async copyArchiveFromContainer(path: string): Promise<NodeJS.ReadableStream> {
    return (await dockerClient()).container.fetchArchive(this.container, path);
  }

  async copyArchiveToContainer(tar: Readable, target = "/", options?: CopyToContainerOptions): Promise<void> {
    await (await dockerClient()).container.putArchive(this.container, tar, target, options);
  }

  copyFilesToContainer(): Promise<void> { return this.noTarBuilder("copyFilesToContainer"); }
  copyDirectoriesToContainer(): Promise<void> { return this.noTarBuilder("copyDirectoriesToContainer"); }
  copyContentToContainer(): Promise<void> { return this.noTarBuilder("copyContentToContainer"); }

  private noTarBuilder(method: string): Promise<void> {
    return Promise.reject(new Error(`${method} is not available on an attached container (${this.name}); pass a tar stream to copyArchiveToContainer`));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

async function wrap(summary: ContainerSummary, host: string): Promise<Wrapped> {
  const client = await dockerClient();
  const container: Dockerode.Container = client.container.dockerode.getContainer(summary.id);
  const inspect = await container.inspect();
  const started = new AttachedContainer(container, host, inspect, summary.name);
  const logBuffer = new LogBuffer();
  logBuffer.consumer(await client.container.logs(container, { since: 0 })); // the whole output so far, then follow
  return { started, logBuffer, image: inspect.Config.Image };
}

/**
 * Handles for the running cluster `clusterId`, rebuilt from its plan label: the same pure
 * planCluster() the start ran gives the ids, ports and endpoints. Throws {@link AttachError} when
 * it has no containers, lacks a component, a container is not running, or its plan label is
 * missing or of another version (a cluster started by an older version of this package).
 */
export async function attachCluster(clusterId: string): Promise<StartedM3AggregatorCluster> {
  const containers = await containersWithLabel(LABEL_CLUSTER, clusterId);
  if (containers.length === 0) throw new AttachError(`no containers of cluster ${clusterId}`);
  const notRunning = containers.filter((c) => c.state !== "running");
  if (notRunning.length > 0) {
    throw new AttachError(`cluster ${clusterId}: ${notRunning.map((c) => `${c.name} is ${c.state}`).join(", ")}`);
  }
  const byComponent = (component: string, node?: string) =>
    containers.find((c) => c.labels[LABEL_COMPONENT] === component && (node === undefined || c.labels[LABEL_NODE] === node));
  const etcdSummary = byComponent("etcd");
  const coordinatorSummary = byComponent("m3coordinator");
  if (etcdSummary === undefined || coordinatorSummary === undefined) {
    throw new AttachError(`cluster ${clusterId} lacks ${etcdSummary === undefined ? "etcd" : "the coordinator"}`);
  }
  const label = etcdSummary.labels[LABEL_PLAN];
  if (label === undefined) throw new AttachError(`cluster ${clusterId}: etcd has no ${LABEL_PLAN} label`);
  let plan: ClusterPlan;
  try {
    plan = planCluster(decodePlanLabel(label));
  } catch (error) {
    throw new AttachError(`cluster ${clusterId}: ${(error as Error).message}`, { cause: error });
  }
  // Nodes from their own containers: a node added by addNodes/replaceNode carries its plan in its own
  // label, and a removed one is gone; the live placement decides which must be there (waitForReady).
  const nodePlans: Array<{ summary: ContainerSummary; node: NodePlan }> = [];
  for (const summary of containers.filter((c) => c.labels[LABEL_COMPONENT] === "m3aggregator")) {
    const id = summary.labels[LABEL_NODE];
    const nodeLabel = summary.labels[LABEL_PLAN];
    let node: NodePlan | undefined;
    try {
      node = nodeLabel === undefined ? undefined : planCluster(decodePlanLabel(nodeLabel)).nodes.find((n) => n.id === id);
    } catch (error) {
      throw new AttachError(`cluster ${clusterId}: node ${id}: ${(error as Error).message}`, { cause: error });
    }
    if (node === undefined) throw new AttachError(`cluster ${clusterId}: container ${summary.name} has no plan for node ${id}`);
    nodePlans.push({ summary, node });
  }
  nodePlans.sort((a, b) => a.node.id.localeCompare(b.node.id));
  if (nodePlans.length === 0) throw new AttachError(`cluster ${clusterId} has none of its ${plan.nodes.length} aggregator nodes`);

  const proxySummary = byComponent("toxiproxy");
  if (plan.faults !== undefined && proxySummary === undefined) throw new AttachError(`cluster ${clusterId} was started with faults: true and lacks its Toxiproxy container`);
  const host = plan.host;
  const [etcdWrapped, coordinatorWrapped, ...nodeWrapped] = await Promise.all([etcdSummary, coordinatorSummary, ...nodePlans.map((p) => p.summary)].map((c) => wrap(c, host)));
  const etcd = new StartedEtcdContainer((etcdWrapped as Wrapped).started, (etcdWrapped as Wrapped).logBuffer, plan.etcd);
  const coordinator = new StartedM3CoordinatorContainer((coordinatorWrapped as Wrapped).started, (coordinatorWrapped as Wrapped).logBuffer, plan.coordinator);
  const nodes = nodePlans.map(({ node: n }, i) => new StartedM3AggregatorNode((nodeWrapped[i] as Wrapped).started, (nodeWrapped[i] as Wrapped).logBuffer, n));
  let toxiproxy: StartedToxiproxyContainer | undefined;
  if (plan.faults !== undefined && proxySummary !== undefined) {
    const wrapped = await wrap(proxySummary, host);
    toxiproxy = new StartedToxiproxyContainer(wrapped.started, wrapped.logBuffer, plan.faults);
  }
  return new StartedM3AggregatorCluster(plan, etcd, coordinator, nodes, { total: 0 }, true, undefined, toxiproxy);
}
