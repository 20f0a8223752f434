/**
 * Handles for containers this process did not start (found by label): the cluster's attach
 * and a handle taking in nodes another process added (`m3agg scale`) both wrap them here.
 */
import type { Readable } from "node:stream";
import type Dockerode from "dockerode";
import type {
  CommitOptions, CopyToContainerOptions, ExecOptions, ExecResult, StartedTestContainer, StoppedTestContainer,
} from "testcontainers";
import { LogBuffer } from "./log-buffer";
import { type ContainerSummary, dockerClient } from "../docker/client";

export interface Wrapped {
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

/** Wraps a running container found by label; its log buffer holds the whole output so far, then follows. */
export async function wrap(summary: ContainerSummary, host: string): Promise<Wrapped> {
  const client = await dockerClient();
  const container: Dockerode.Container = client.container.dockerode.getContainer(summary.id);
  const inspect = await container.inspect();
  const started = new AttachedContainer(container, host, inspect, summary.name);
  const logBuffer = new LogBuffer();
  logBuffer.consumer(await client.container.logs(container, { since: 0 })); // the whole output so far, then follow
  return { started, logBuffer, image: inspect.Config.Image };
}
