/**
 * Failure-injection controls shared by every started container of the
 * fixture: stop/start, kill, pause/unpause, restart. With host networking
 * the ports live in the rendered config, so a container keeps its ports and
 * identity across all of these. Logs keep flowing into the same buffer after
 * a (re)start. Testcontainers' own stop() removes the container; here stop()
 * keeps it so start() can bring it back (the cluster removes it at the end).
 */
import type Dockerode from "dockerode";
import { AbstractStartedContainer, type StartedTestContainer, type StoppedTestContainer, type WaitStrategy } from "testcontainers";
import { dockerClient } from "../docker/client";
import type { ContainerSpec } from "../plan/spec";
import type { LogBuffer } from "./log-buffer";
import { waitStrategyOf } from "./wait";
import { formatLogTail } from "../util/log-tail";

/** Container state as Docker reports it. */
export type ContainerState = "running" | "paused" | "exited" | "created" | "restarting" | "removing" | "dead" | "missing";

/**
 * A started container of the cluster with failure-injection controls. **stop() contract:** unlike
 * Testcontainers' `stop()`, which removes the container, `stop()` here stops the process and keeps
 * the container (its ports, identity and logs), so {@link start} brings it back; the cluster's
 * `stop()` removes every container at the end.
 */
export abstract class ControllableContainer extends AbstractStartedContainer {
  /** What a ready container answers (its spec's wait strategy, used again after every (re)start). */
  private readonly readiness: WaitStrategy;
  /** For messages: `etcd`, `m3coordinator`, `m3aggregator01`, … (the spec's name). */
  readonly component: string;

  protected constructor(
    started: StartedTestContainer,
    /** Output of the container from its first line on, across restarts. */
    readonly logBuffer: LogBuffer,
    /** The spec the container was started from. */
    spec: ContainerSpec,
  ) {
    super(started);
    this.readiness = waitStrategyOf(spec.wait);
    this.component = spec.name;
  }

  private async container(): Promise<Dockerode.Container> {
    return (await dockerClient()).container.dockerode.getContainer(this.getId());
  }

  /** Docker's view of the container. */
  async state(): Promise<ContainerState> {
    try {
      return (await (await this.container()).inspect()).State.Status as ContainerState;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return "missing";
      throw error;
    }
  }

  /** Lines the container printed so far, oldest first (Testcontainers' `logs()` is the raw stream). */
  logLines(): string[] {
    return this.logBuffer.all();
  }

  private async followLogsSince(sinceSeconds: number): Promise<void> {
    const client = await dockerClient();
    this.logBuffer.append(`--- ${this.component} (re)started ---\n`);
    this.logBuffer.consumer(await client.container.logs(await this.container(), { since: sinceSeconds }));
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    try {
      await this.readiness.withStartupTimeout(timeoutMs).waitUntilReady(await this.container(), undefined as never);
    } catch (error) {
      throw new Error(`${this.component} not ready after (re)start: ${(error as Error).message}\n` +
        formatLogTail(this.component, this.logBuffer.all()), { cause: error });
    }
  }

  /**
   * Stops the process: SIGTERM, then SIGKILL after `timeoutSeconds` (default 10). The container and
   * its ports stay reserved; {@link start} brings it back.
   */
  override async stop(options: { timeout?: number } = {}): Promise<StoppedTestContainer> {
    const container = await this.container();
    await container.stop({ t: options.timeout ?? 10 }).catch(ignoreNotModified);
    return { getId: () => this.getId(), copyArchiveFromContainer: (path) => this.copyArchiveFromContainer(path) };
  }

  /**
   * Stops the process (SIGTERM, SIGKILL after `timeoutSeconds`, default 10) and removes the container
   * (Testcontainers' stop semantics). A container already gone is not an error.
   */
  async remove(options: { timeout?: number } = {}): Promise<void> {
    const container = await this.container();
    try {
      await container.stop({ t: options.timeout ?? 10 }).catch(ignoreNotModified);
      await container.remove({ force: true, v: true });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }

  /** Sends a signal to the process (default SIGKILL: a crash, no shutdown handlers). */
  async kill(signal = "SIGKILL"): Promise<void> {
    await (await this.container()).kill({ signal });
  }

  /** Starts a stopped or killed container again and waits until it is ready (same ports, same id). */
  async start(timeoutMs = 60_000): Promise<void> {
    const since = Math.floor(Date.now() / 1000);
    await (await this.container()).start().catch(ignoreNotModified);
    await this.followLogsSince(since);
    await this.waitReady(timeoutMs);
  }

  /** Stops (SIGTERM, SIGKILL after `timeoutSeconds`) and starts again, then waits until ready. */
  override async restart(options: { timeout?: number; readyTimeoutMs?: number } = {}): Promise<void> {
    const since = Math.floor(Date.now() / 1000);
    await (await this.container()).restart({ t: options.timeout ?? 10 });
    await this.followLogsSince(since);
    await this.waitReady(options.readyTimeoutMs ?? 60_000);
  }

  /** Freezes every process of the container (cgroup freezer): the closest thing to a partition in host networking. */
  async pause(): Promise<void> {
    await (await this.container()).pause();
  }

  /** Thaws a paused container and waits until it answers again. */
  async unpause(timeoutMs = 60_000): Promise<void> {
    await (await this.container()).unpause();
    await this.waitReady(timeoutMs);
  }
}

/** Docker answers 304 when the container already is in the requested state. */
function ignoreNotModified(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode !== 304) throw error;
}
