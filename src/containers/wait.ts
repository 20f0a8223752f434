/**
 * Wait strategies of the plan's container specs: poll an address the test process can dial.
 * Testcontainers' own Wait.forHttp / forListeningPorts need port bindings,
 * which host network mode does not have. Both fail fast when the container
 * exits instead of waiting out the timeout.
 */
import type Dockerode from "dockerode";
import type { BoundPorts, WaitStrategy } from "testcontainers";
import { httpRequest } from "../util/http";
import { poll } from "../util/poll";
import { tcpProbe } from "../util/socket";
import type { WaitSpec } from "../plan/spec";

/** How often a waiting strategy asks the engine whether the container exited (a failed start is reported within this). */
export const EXIT_CHECK_INTERVAL_MS = 250;

/** A Testcontainers wait strategy that polls an address until a check passes, and fails as soon as the container exits. */
export abstract class LoopbackWaitStrategy implements WaitStrategy {
  private startupTimeoutMs = 60_000;
  private timeoutSet = false;

  protected constructor(private readonly target: string, private readonly intervalMs = 25) {}

  /** undefined when ready, else why not (for the timeout message). */
  protected abstract check(): Promise<string | undefined>;

  withStartupTimeout(startupTimeoutMs: number): this {
    this.startupTimeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.startupTimeoutMs;
  }

  async waitUntilReady(container: Dockerode.Container, _boundPorts?: BoundPorts): Promise<void> {
    let notReady: string | undefined;
    // The engine is asked whether the container still runs at most every EXIT_CHECK_INTERVAL_MS, not
    // after every failed check: while a cluster starts, every container polls, and an inspect per
    // poll (~30 a second each) competed with the engine's own work of creating and starting them.
    let nextExitCheck = 0;
    await poll(async () => {
      notReady = await this.check();
      if (notReady === undefined) return true;
      if (Date.now() >= nextExitCheck) {
        const state = (await container.inspect()).State;
        if (!state.Running) {
          throw new Error(`container exited (code ${state.ExitCode}${state.OOMKilled ? ", OOM-killed" : ""}) before ${this.target} was ready`);
        }
        nextExitCheck = Date.now() + EXIT_CHECK_INTERVAL_MS;
      }
      return undefined;
    }, {
      timeoutMs: this.startupTimeoutMs, intervalMs: this.intervalMs, what: `${this.target} ready`,
      onTimeout: () => new Error(`${this.target} not ready after ${this.startupTimeoutMs} ms (last: ${notReady})`),
    });
  }
}

/** Ready when an HTTP GET on 127.0.0.1 satisfies `isReady` (default: status 200). */
export class LoopbackHttpWaitStrategy extends LoopbackWaitStrategy {
  constructor(
    private readonly url: string,
    private readonly isReady: (status: number, body: string) => boolean = (status) => status === 200,
  ) {
    super(url);
  }

  protected async check(): Promise<string | undefined> {
    try {
      const response = await httpRequest("GET", this.url, { timeoutMs: 1_000 });
      return this.isReady(response.status, response.text) ? undefined : `answered ${response.status}: ${response.text.trim().slice(0, 200)}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}

/** Ready when host:port accepts a TCP connection (e.g. delve before the program runs). */
export class LoopbackTcpWaitStrategy extends LoopbackWaitStrategy {
  constructor(private readonly host: string, private readonly port: number) {
    super(`${host}:${port}`);
  }

  protected check(): Promise<string | undefined> {
    return tcpProbe(this.host, this.port);
  }
}

/** The wait strategy of a spec's {@link WaitSpec}: used at start and after every restart, start or unpause. */
export function waitStrategyOf(wait: WaitSpec): LoopbackWaitStrategy {
  switch (wait.kind) {
    case "http": {
      const { url, bodyIncludes } = wait;
      return new LoopbackHttpWaitStrategy(url, (status, body) => status === 200 && (bodyIncludes === undefined || body.includes(bodyIncludes)));
    }
    case "tcp":
      return new LoopbackTcpWaitStrategy(wait.host, wait.port);
  }
}
