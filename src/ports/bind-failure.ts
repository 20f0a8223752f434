/**
 * Recognises a container that exited because its port was taken. m3, etcd and
 * delve are Go programs: a failed listen reads
 * `listen tcp 127.0.0.1:43737: bind: address already in use` in their last log
 * lines (m3: "prometheus handler listen address error: …", "could not start
 * serving traffic"; etcd: "failed to start etcd" in zap JSON; delve:
 * "couldn't start listener: …").
 */

/** One log line that says a listener could not bind. */
export interface BindFailure {
  /** Container that printed it (`etcd`, `m3coordinator`, `m3aggregator02`, …). */
  component: string;
  /** The port it names, when the line names one. */
  port: number | undefined;
  /** The line itself. */
  line: string;
}

const IN_USE = /address already in use/i;
const PORT_IN_LINE = /listen tcp[46]? (?:\[[^\]]*\]|[^\s"'\\]*):(\d{1,5}): bind: address already in use/i;

/** Every bind failure in the given log tails (component → lines). */
export function bindFailures(tails: ReadonlyArray<{ component: string; lines: readonly string[] }>): BindFailure[] {
  return tails.flatMap(({ component, lines }) => lines.filter((line) => IN_USE.test(line)).map((line) => {
    const port = Number(PORT_IN_LINE.exec(line)?.[1]);
    return { component, port: Number.isInteger(port) ? port : undefined, line: line.length > 400 ? `${line.slice(0, 400)}…` : line };
  }));
}

/** One start attempt that failed because a listener could not bind. */
export interface BindAttempt {
  /** Every port of that attempt's plan with its purpose. */
  ports: Array<{ port: number; purpose: string }>;
  /** The log lines that said so. */
  failures: BindFailure[];
}

/** Every start attempt failed to bind a port: names each attempt's ports and the log line. */
export class PortBindRetriesExhaustedError extends Error {
  override readonly name = "PortBindRetriesExhaustedError";
  constructor(readonly attempts: BindAttempt[]) {
    super(`a listener could not bind its port in each of ${attempts.length} attempts (each on newly planned ports; something outside the fixture took them):\n` +
      attempts.map((a, i) => `attempt ${i + 1}: ${a.failures.map((f) => {
        const purpose = a.ports.find((p) => p.port === f.port)?.purpose;
        return `${f.component}${f.port === undefined ? "" : ` could not bind ${f.port}${purpose === undefined ? "" : ` (${purpose})`}`}: ${f.line}`;
      }).join("; ")}\n  ports: ${a.ports.map((p) => `${p.purpose} ${p.port}`).join(", ")}`).join("\n"));
  }
}
