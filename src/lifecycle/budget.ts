/**
 * One deadline for a whole start: every retry, lock wait, container wait and poll takes its time
 * from the same budget, and one AbortSignal ends them all when the deadline passes or when the
 * caller gives up (a test runner's hook timed out, Ctrl-C).
 */

/** The start ran past `startTimeoutMs`. */
export class StartTimeoutError extends Error {
  override readonly name = "StartTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`the start did not finish within startTimeoutMs=${timeoutMs} ms (retries, lock waits and every wait included)`);
  }
}

/** The caller aborted the start (its signal's reason is the cause). */
export class StartAbortedError extends Error {
  override readonly name = "StartAbortedError";
  constructor(override readonly cause: unknown) {
    super(`the start was aborted: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The least time a wait is given, even past the deadline: enough to fail with its own error. */
const MIN_REMAINING_MS = 1_000;

export class StartBudget {
  private readonly controller = new AbortController();
  private deadline: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly onCallerAbort = (): void => this.abort(new StartAbortedError(this.callerSignal?.reason));

  /** Aborts when the deadline passes or the caller's signal aborts; its reason is a StartTimeoutError or StartAbortedError. */
  readonly signal: AbortSignal = this.controller.signal;

  constructor(private readonly timeoutMs: number, private readonly callerSignal?: AbortSignal) {
    this.deadline = Date.now() + timeoutMs;
    this.arm();
    if (callerSignal?.aborted) this.onCallerAbort();
    else callerSignal?.addEventListener("abort", this.onCallerAbort, { once: true });
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.abort(new StartTimeoutError(this.timeoutMs)), Math.max(0, this.deadline - Date.now()));
    this.timer.unref(); // the budget alone keeps no process alive
  }

  /** Aborts the start now with `reason` (e.g. a signal arrived); no-op once aborted. */
  abort(reason: Error): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** Milliseconds left until the deadline (at least 1 s, so a wait can fail with its own error). */
  remaining(): number {
    return Math.max(MIN_REMAINING_MS, this.deadline - Date.now());
  }

  /** Throws the abort reason once the deadline passed or the caller aborted. */
  check(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  /** `work`, or the abort reason as soon as the budget is aborted (whichever comes first). */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(this.signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(this.signal.reason);
      this.signal.addEventListener("abort", onAbort, { once: true });
      work.then(resolve, reject).finally(() => this.signal.removeEventListener("abort", onAbort));
    });
  }

  /** Starts the deadline anew (a cold source build takes minutes and has no part in the start's budget). */
  restart(): void {
    if (this.signal.aborted) return;
    this.deadline = Date.now() + this.timeoutMs;
    this.arm();
  }

  /** Stops the timer and lets go of the caller's signal (the start is over). */
  dispose(): void {
    clearTimeout(this.timer);
    this.callerSignal?.removeEventListener("abort", this.onCallerAbort);
  }
}
