/**
 * Wait strategy for host-network containers: polls an HTTP URL on 127.0.0.1.
 * Testcontainers' own Wait.forHttp needs port bindings, which host network
 * mode does not have. Fails fast when the container exits instead of waiting
 * out the timeout.
 */
import type Dockerode from "dockerode";
import type { BoundPorts, WaitStrategy } from "testcontainers";
import { httpRequest } from "../http";

export class LoopbackHttpWaitStrategy implements WaitStrategy {
  private startupTimeoutMs = 60_000;
  private timeoutSet = false;

  /**
   * @param url URL on 127.0.0.1 to poll
   * @param isReady decides from status and body; default: any 200
   */
  constructor(
    private readonly url: string,
    private readonly isReady: (status: number, body: string) => boolean = (status) => status === 200,
    private readonly intervalMs = 25,
  ) {}

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
    const deadline = Date.now() + this.startupTimeoutMs;
    let last = "no answer yet";
    for (;;) {
      try {
        const response = await httpRequest("GET", this.url, { timeoutMs: 1_000 });
        if (this.isReady(response.status, response.text)) return;
        last = `answered ${response.status}: ${response.text.trim().slice(0, 200)}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      const state = (await container.inspect()).State;
      if (!state.Running) {
        throw new Error(`container exited (code ${state.ExitCode}${state.OOMKilled ? ", OOM-killed" : ""}) before ${this.url} was ready`);
      }
      if (Date.now() >= deadline) {
        throw new Error(`${this.url} not ready after ${this.startupTimeoutMs} ms (last: ${last})`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }
}
