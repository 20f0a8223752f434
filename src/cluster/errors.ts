/**
 * The error a failed start throws: which phase failed, for which component,
 * and the last lines each involved container printed.
 */
import { formatLogTail } from "../util/log-tail";

import type { LogTail, StartPhase } from "../model/phases";

/** A start failed: the phase, the cause, and the last log lines of every container it had started (all removed). */
export class ClusterStartError extends Error {
  override readonly name = "ClusterStartError";
  constructor(
    readonly clusterId: string,
    readonly phase: StartPhase,
    override readonly cause: unknown,
    readonly logTails: LogTail[] = [],
  ) {
    super(ClusterStartError.format(clusterId, phase, cause, logTails), { cause });
  }

  private static format(clusterId: string, phase: StartPhase, cause: unknown, tails: LogTail[]): string {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const logs = tails
      .filter((t) => t.lines.length > 0)
      .map((t) => formatLogTail(t.component, t.lines, t.lines.length))
      .join("\n");
    return `cluster ${clusterId} failed to start in phase "${phase}": ${reason}` +
      "\n(everything it had started was removed)" + (logs === "" ? "" : `\n${logs}`);
  }
}
