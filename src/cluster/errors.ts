/**
 * The error a failed start throws: which phase failed, for which component,
 * and the last lines each involved container printed.
 */
import { formatLogTail } from "../util/log-tail";
import { describeTeardown, type TeardownReport } from "../lifecycle/live";

import type { LogTail, StartPhase } from "../model/phases";

/** A start failed: the phase, the cause, and the last log lines of every container it had started (all removed). */
export class ClusterStartError extends Error {
  override readonly name = "ClusterStartError";
  constructor(
    readonly clusterId: string,
    readonly phase: StartPhase,
    override readonly cause: unknown,
    readonly logTails: LogTail[] = [],
    /**
     * What the teardown after the failure removed and what it could not (undefined: the start
     * failed before it had started anything).
     */
    readonly teardown?: TeardownReport,
  ) {
    super(ClusterStartError.format(clusterId, phase, cause, logTails, teardown), { cause });
  }

  private static format(clusterId: string, phase: StartPhase, cause: unknown, tails: LogTail[], teardown: TeardownReport | undefined): string {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const logs = tails
      .filter((t) => t.lines.length > 0)
      .map((t) => formatLogTail(t.component, t.lines, t.lines.length))
      .join("\n");
    return `cluster ${clusterId} failed to start in phase "${phase}": ${reason}` +
      `\n(${teardown === undefined ? "nothing had been started" : describeTeardown(teardown)})` + (logs === "" ? "" : `\n${logs}`);
  }
}
