/** The one format of "the last log lines of a container" in errors: start failures, restarts, waits. */

/** How many of a container's last lines an error shows. */
export const LOG_TAIL_LINES = 40;

/** `--- last N log lines of <component> ---` then the last `max` lines (N = how many there are). */
export function formatLogTail(component: string, lines: readonly string[], max = LOG_TAIL_LINES): string {
  const tail = lines.slice(-max);
  return `--- last ${tail.length} log lines of ${component} ---\n${tail.join("\n")}`;
}
