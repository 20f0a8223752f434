/**
 * Runs the phases of a cluster start: reports each one's begin/end/failure to the progress
 * callback, records how long it took, keeps the start's deadline, and tags a failure with the
 * phase it happened in (phases run concurrently, so the first failing one must travel with it).
 */
import type { ProgressEvent, StartPhase, StartupTimings } from "../model/phases";
import { StartBudget } from "./budget";


/** An error that happened in `phase`; the runner converts it to a ClusterStartError at the end. */
export class PhaseFailure extends Error {
  constructor(readonly phase: StartPhase, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** The phase an error of a start belongs to (`fallback` when it came from outside any phase), and its cause. */
export function failedPhase(error: unknown, fallback: StartPhase): { phase: StartPhase; cause: unknown } {
  return error instanceof PhaseFailure ? { phase: error.phase, cause: error.cause } : { phase: fallback, cause: error };
}

/** Runs the named phases of one start within its deadline, reporting and timing each. */
export class PhaseRunner {
  readonly timings: StartupTimings = { total: 0 };
  private readonly begin = Date.now();
  private readonly works: Array<Promise<unknown>> = [];
  /** The start's one deadline and abort signal: every phase ends as soon as it aborts. */
  readonly budget: StartBudget;

  /** `budget`: the start's (or a timeout in ms, for a budget of the runner's own). */
  constructor(budget: StartBudget | number, private readonly onProgress?: (event: ProgressEvent) => void) {
    this.budget = typeof budget === "number" ? new StartBudget(budget) : budget;
  }

  /** Reports a phase's state; a throwing progress printer does not break the start. */
  progress(phase: StartPhase, state: ProgressEvent["state"], ms?: number, detail?: string): void {
    try {
      this.onProgress?.({ phase, state, ms, ...(detail === undefined ? {} : { detail }) });
    } catch {
      // a progress printer must not break the start
    }
  }

  /** Runs one phase: progress begin/end/failed, its time in {@link timings}, a failure tagged with the phase. */
  async run<T>(phase: StartPhase, work: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    this.progress(phase, "begin");
    try {
      this.budget.check();
      const running = work();
      this.works.push(running.catch(() => undefined));
      const result = await this.budget.race(running); // the deadline or an abort ends the phase at once
      this.progress(phase, "end", Date.now() - t0);
      return result;
    } catch (error) {
      this.progress(phase, "failed", Date.now() - t0);
      throw error instanceof PhaseFailure ? error : new PhaseFailure(phase, error);
    } finally {
      this.timings[phase] = Date.now() - t0;
    }
  }

  /** Milliseconds left until the deadline (at least 1 s). */
  remaining(): number {
    return this.budget.remaining();
  }

  /** Starts the deadline anew: a cold source build takes minutes and does not count against the start. */
  restartDeadline(): void {
    this.budget.restart();
  }

  /**
   * Resolves once the work of every phase run so far has settled, including work a deadline or an
   * abort left running (a container still being created, a port reservation, the cluster folder).
   */
  async settled(): Promise<void> {
    for (let seen = 0; seen < this.works.length; seen = this.works.length) await Promise.all(this.works.slice(seen));
  }

  /** The timings with `total` set to the time since the runner was made. */
  finish(): StartupTimings {
    this.timings.total = Date.now() - this.begin;
    return this.timings;
  }
}
