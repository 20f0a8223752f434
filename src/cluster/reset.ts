/**
 * `cluster.reset()`: puts a shared cluster back into the state start() leaves it in, between
 * tests. The steps, in order:
 *  0. with `faults: true`: the Toxiproxy container running again, and every fault healed (`healAll()`);
 *  1. every registered reset step (the failure-injection code registers one that heals the
 *     faults it injected; anything else that changes a cluster can join with {@link registerResetStep});
 *  2. every container running again: a paused one is unpaused, a stopped or killed one started
 *     (etcd first, then the coordinator, then the nodes), each waited for until it answers;
 *  3. the sink emptied (when this process has it);
 *  4. ready again: one leader and only verified followers per shard set.
 * A step that fails stops the reset with an error naming the step; nothing is swallowed.
 */
import type { ContainerState } from "../containers/controllable";
import type { ShardSetElection } from "./readiness";

/** What a reset step gets: the cluster's id and a way to reach its containers. */
export interface ResettableCluster {
  getClusterId(): string;
}

/** A step of every reset: receives the cluster being reset. */
export type ResetStep = (cluster: ResettableCluster) => Promise<void>;

const steps: Array<{ name: string; step: ResetStep }> = [];

/**
 * Adds a step that every `cluster.reset()` runs first, in registration order (e.g. "heal faults").
 * Returns a function that removes it. Registering the same name again replaces the step.
 */
export function registerResetStep(name: string, step: ResetStep): () => void {
  const existing = steps.findIndex((s) => s.name === name);
  if (existing >= 0) steps.splice(existing, 1, { name, step });
  else steps.push({ name, step });
  return () => {
    const at = steps.findIndex((s) => s.name === name && s.step === step);
    if (at >= 0) steps.splice(at, 1);
  };
}

/** Names of the registered steps, in the order they run. */
export function resetStepNames(): string[] {
  return steps.map((s) => s.name);
}

/** A container reset() can bring back. */
export interface RestorableContainer {
  readonly component: string;
  state(): Promise<ContainerState>;
  start(timeoutMs?: number): Promise<void>;
  unpause(timeoutMs?: number): Promise<void>;
}

export interface ResetOptions {
  /** Time allowed for bringing containers back and for the election (default 60 000 ms). */
  timeoutMs?: number;
}

/** What reset() did. */
export interface ResetReport {
  /** Registered steps that ran. */
  steps: string[];
  /** Containers brought back, e.g. `m3aggregator02: exited → running`. */
  restored: string[];
  /** Datapoints dropped from the sink (undefined when this process has no sink). */
  sinkCleared: number | undefined;
  /** The election once ready. */
  election: ShardSetElection[];
  ms: number;
}

export class ResetError extends Error {
  override readonly name = "ResetError";
  constructor(readonly clusterId: string, readonly step: string, cause: unknown) {
    super(`reset of cluster ${clusterId} failed at ${step}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Runs the reset; the cluster module calls this with its own parts. */
export async function resetCluster(cluster: ResettableCluster, parts: {
  containers: RestorableContainer[];
  /** The fault proxy and how to heal every fault (clusters with `faults: true`). */
  faults?: { proxy: RestorableContainer; heal: () => Promise<unknown> };
  clearSink: (() => number) | undefined;
  waitForReady: (timeoutMs: number) => Promise<ShardSetElection[]>;
}, options: ResetOptions = {}): Promise<ResetReport> {
  const t0 = Date.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ran: string[] = [];
  const restored: string[] = [];
  const bringBack = async (container: RestorableContainer): Promise<void> => {
    let state: ContainerState;
    try {
      state = await container.state();
      if (state === "paused") await container.unpause(timeoutMs);
      else if (state === "exited" || state === "created" || state === "dead") await container.start(timeoutMs);
      else if (state === "missing") throw new Error(`container ${container.component} was removed; start a new cluster`);
      else return;
    } catch (error) {
      throw new ResetError(cluster.getClusterId(), `bringing back ${container.component}`, error);
    }
    restored.push(`${container.component}: ${state} → running`);
  };
  if (parts.faults !== undefined) {
    await bringBack(parts.faults.proxy);
    try {
      await parts.faults.heal();
    } catch (error) {
      throw new ResetError(cluster.getClusterId(), "healing the faults", error);
    }
    ran.push("heal faults");
  }
  for (const { name, step } of [...steps]) {
    try {
      await step(cluster);
    } catch (error) {
      throw new ResetError(cluster.getClusterId(), `step "${name}"`, error);
    }
    ran.push(name);
  }
  for (const container of parts.containers) await bringBack(container); // etcd before the coordinator before the nodes
  const sinkCleared = parts.clearSink?.();
  let election: ShardSetElection[];
  try {
    election = await parts.waitForReady(timeoutMs);
  } catch (error) {
    throw new ResetError(cluster.getClusterId(), "waiting for one leader per shard set", error);
  }
  return { steps: ran, restored, sinkCleared, election, ms: Date.now() - t0 };
}
