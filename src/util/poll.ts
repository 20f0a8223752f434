/**
 * The one poll loop of the package: readiness, elections, leaders, the sink and the
 * containers' wait strategies all call `check` until it has a result or time is up.
 */

/** A poll ran out of time. */
export class PollTimeoutError extends Error {
  override readonly name = "PollTimeoutError";
  constructor(readonly what: string, readonly timeoutMs: number) {
    super(`${what} not met within ${timeoutMs} ms`);
  }
}

export interface PollOptions {
  /** Give up once this much time has passed (the check runs at least once, and once more at the deadline). */
  timeoutMs: number;
  /** Pause between checks (default 100 ms). */
  intervalMs?: number;
  /** What is awaited, for the default timeout error. */
  what: string;
  /** The error to throw on timeout instead of a {@link PollTimeoutError} (e.g. with the last state seen). */
  onTimeout?: () => Error;
}

/**
 * Calls `check` until it returns something other than `undefined` (so `0`, `""`, `false` and `null`
 * are results, not "keep polling"), and resolves with that. An error thrown by `check` ends the poll at
 * once (e.g. "the container exited"). Throws a RangeError for a timeout or interval that is not a finite
 * number >= 0 (a NaN timeout would otherwise poll forever).
 */
export async function poll<T>(check: () => T | undefined | Promise<T | undefined>, options: PollOptions): Promise<T> {
  // A NaN deadline would never pass (Date.now() >= NaN is false): refuse it rather than poll forever.
  if (typeof options.timeoutMs !== "number" || !Number.isFinite(options.timeoutMs) || options.timeoutMs < 0) {
    throw new RangeError(`poll(${options.what}): timeoutMs=${String(options.timeoutMs)} must be a finite number of ms >= 0`);
  }
  if (options.intervalMs !== undefined && (typeof options.intervalMs !== "number" || !Number.isFinite(options.intervalMs) || options.intervalMs < 0)) {
    throw new RangeError(`poll(${options.what}): intervalMs=${String(options.intervalMs)} must be a finite number of ms >= 0`);
  }
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() >= deadline) throw options.onTimeout?.() ?? new PollTimeoutError(options.what, options.timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
