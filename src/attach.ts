/**
 * Attaching to a cluster that is already running (started by this or another
 * process): everything needed is in the containers' labels (ports, options),
 * so handles are rebuilt without any state file. Used by reuse mode and by
 * the jest global-setup recipe.
 */
import type { Readable } from "node:stream";
import type Dockerode from "dockerode";
import type {
  CommitOptions, CopyToContainerOptions, ExecOptions, ExecResult, StartedTestContainer, StoppedTestContainer,
} from "testcontainers";
import { StartedM3AggregatorCluster } from "./started-cluster";
import { etcdReadiness, StartedEtcdContainer } from "./containers/etcd";
import { LogBuffer } from "./containers/log-buffer";
import { aggregatorReadiness, StartedM3AggregatorNode } from "./containers/m3aggregator";
import { coordinatorReadiness, StartedM3CoordinatorContainer } from "./containers/m3coordinator";
import { type ContainerSummary, containersWithLabel, dockerClient } from "./docker";
import type { ResolvedImage } from "./images";
import { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE, LABEL_OPTIONS, LABEL_PORTS } from "./labels";
import type { ImageNames, ResolvedClusterOptions } from "./options";
import { LOOPBACK, type NodePorts, type PortPlan } from "./ports";

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

function portsOf<T>(summary: ContainerSummary): T {
  const text = summary.labels[LABEL_PORTS];
  if (text === undefined) throw new AttachError(`container ${summary.name} has no ${LABEL_PORTS} label`);
  return JSON.parse(text) as T;
}

/**
 * Handles for the running cluster `clusterId`. Throws {@link AttachError} when it has no
 * containers, lacks a component, or a container is not running.
 */
export async function attachCluster(clusterId: string): Promise<StartedM3AggregatorCluster> {
  const containers = await containersWithLabel(LABEL_CLUSTER, clusterId);
  if (containers.length === 0) throw new AttachError(`no containers of cluster ${clusterId}`);
  const notRunning = containers.filter((c) => c.state !== "running");
  if (notRunning.length > 0) {
    throw new AttachError(`cluster ${clusterId}: ${notRunning.map((c) => `${c.name} is ${c.state}`).join(", ")}`);
  }
  const byComponent = (component: string) => containers.filter((c) => c.labels[LABEL_COMPONENT] === component);
  const [etcdSummary] = byComponent("etcd");
  const [coordinatorSummary] = byComponent("m3coordinator");
  const nodeSummaries = byComponent("m3aggregator").sort((a, b) => (a.labels[LABEL_NODE] ?? "").localeCompare(b.labels[LABEL_NODE] ?? ""));
  if (etcdSummary === undefined || coordinatorSummary === undefined) {
    throw new AttachError(`cluster ${clusterId} lacks ${etcdSummary === undefined ? "etcd" : "the coordinator"}`);
  }
  const options = JSON.parse(etcdSummary.labels[LABEL_OPTIONS] ?? "null") as ResolvedClusterOptions | null;
  if (options === null) throw new AttachError(`cluster ${clusterId}: etcd has no ${LABEL_OPTIONS} label`);
  if (nodeSummaries.length !== options.nodes) {
    throw new AttachError(`cluster ${clusterId} has ${nodeSummaries.length} of its ${options.nodes} aggregator nodes`);
  }

  const etcdPorts = portsOf<{ client: number; peer: number }>(etcdSummary);
  const coordinatorPorts = portsOf<{ admin: number; metrics: number }>(coordinatorSummary);
  const nodePorts = nodeSummaries.map((s) => portsOf<NodePorts>(s));

  const host = options.host ?? LOOPBACK; // labels written before the host option existed lack it
  const etcdReady = etcdReadiness(host, etcdPorts.client);
  const etcdWrapped = await wrap(etcdSummary, host);
  const etcd = new StartedEtcdContainer(etcdWrapped.started, host, etcdPorts.client, etcdWrapped.logBuffer, etcdReady);
  const coordinatorReady = coordinatorReadiness(host, coordinatorPorts.admin);
  const coordinatorWrapped = await wrap(coordinatorSummary, host);
  const coordinator = new StartedM3CoordinatorContainer(coordinatorWrapped.started, host, coordinatorPorts.admin, coordinatorWrapped.logBuffer, coordinatorReady);
  const nodeWrapped = await Promise.all(nodeSummaries.map((s) => wrap(s, host)));
  const nodes = nodeSummaries.map((s, i) => new StartedM3AggregatorNode(
    (nodeWrapped[i] as Wrapped).started, host, s.labels[LABEL_NODE] ?? `node${i}`, nodePorts[i] as NodePorts,
    (nodeWrapped[i] as Wrapped).logBuffer, aggregatorReadiness(host, (nodePorts[i] as NodePorts).http)));

  const ports: PortPlan = {
    host,
    etcdClient: etcdPorts.client, etcdPeer: etcdPorts.peer, coordinator: coordinatorPorts.admin,
    coordinatorMetrics: coordinatorPorts.metrics, nodes: nodePorts,
  };
  const images: ImageNames = {
    etcd: etcdWrapped.image, m3coordinator: coordinatorWrapped.image, m3aggregator: (nodeWrapped[0] as Wrapped).image,
  };
  const imageSources = Object.fromEntries(Object.entries(images).map(([k, image]) => [k, { image, source: "attached" }])) as
    unknown as Record<keyof ImageNames, ResolvedImage>;
  return new StartedM3AggregatorCluster(options, etcd, coordinator, nodes, ports, imageSources, images, { total: 0 }, true);
}
