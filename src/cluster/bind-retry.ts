/**
 * A start again on newly planned ports when a container exited because another program took its
 * port (recognised by its "address already in use" log line), at most {@link MAX_BIND_ATTEMPTS}
 * times. An explicit port (or any port of a given plan) is never moved: its bind failure is a
 * {@link PortInUseError}.
 */
import type { ResolvedClusterOptions } from "../model/options";
import { bindFailures, describePorts, explicitPorts, PortBindRetriesExhaustedError, PortInUseError, type BindAttempt } from "../ports";
import { ClusterStartError } from "./errors";
import { StartContext } from "./phases";

/** Starts (each on newly planned ports) before a port another program keeps taking fails the start. */
const MAX_BIND_ATTEMPTS = 3;

export async function withBindRetries<T>(options: ResolvedClusterOptions, portsFixed: boolean, startOnce: (ctx: StartContext) => Promise<T>): Promise<T> {
  const attempts: BindAttempt[] = [];
  const exclude = new Set<number>();
  for (;;) {
    const ctx = new StartContext(options, exclude);
    try {
      return await startOnce(ctx);
    } catch (error) {
      const failures = error instanceof ClusterStartError ? bindFailures(error.logTails) : [];
      if (!(error instanceof ClusterStartError) || failures.length === 0 || ctx.ports === undefined) throw error;
      attempts.push({ ports: describePorts(ctx.ports), failures });
      const explicit = portsFixed ? describePorts(ctx.ports) : explicitPorts(options);
      const onExplicit = failures.flatMap((f) => explicit.filter((e) => e.port === f.port).map((e) => ({ ...e, line: f.line })))[0];
      if (onExplicit !== undefined) {
        throw new ClusterStartError(options.clusterId, error.phase, new PortInUseError(onExplicit.port, onExplicit.purpose, ctx.ports.host,
          `was taken by another program after the check (${onExplicit.line})`), error.logTails);
      }
      if (portsFixed || attempts.length >= MAX_BIND_ATTEMPTS) {
        throw new ClusterStartError(options.clusterId, error.phase, new PortBindRetriesExhaustedError(attempts), error.logTails);
      }
      // Next plan: none of this attempt's ports (explicit ones are exempt from exclusion), nor the port named in the line.
      for (const p of describePorts(ctx.ports)) exclude.add(p.port);
      for (const f of failures) if (f.port !== undefined) exclude.add(f.port);
    }
  }
}
