/**
 * The phases of a cluster start, each a small function over one {@link StartContext}; start.ts
 * lists them in order. A phase reads the plan, never the options past it (only the phases that
 * make the plan — build, images, ports — read the options).
 */
import type { StartedTestContainer } from "testcontainers";
import type { AggregatorApi } from "../m3/aggregator-api";
import { createPlacement } from "../m3/create-placement";
import { shardSetsOf } from "../m3/placement";
import { registerSink } from "../m3/sink-registration";
import { buildFromSource, type SourceBuild } from "../m3/source-build";
import type { Placement } from "../m3/types";
import type { ImageComponent, ResolvedImage } from "../model/components";
import type { PortPlan } from "../model/network";
import type { ResolvedClusterOptions } from "../model/options";
import type { StartPhase } from "../model/phases";
import type { ClusterPlan, PlanImages, StartEvent } from "../plan/plan";
import type { ContainerSpec } from "../plan/spec";
import { StartedEtcdContainer } from "../containers/etcd";
import { prepareContainer, type StartHooks } from "../containers/executor";
import type { LogBuffer } from "../containers/log-buffer";
import { StartedM3AggregatorNode } from "../containers/m3aggregator";
import { StartedM3CoordinatorContainer } from "../containers/m3coordinator";
import { dockerClient } from "../docker/client";
import { resolveDebugImage, resolveImages, resolveToxiproxyImage } from "../docker/images";
import { StartedToxiproxyContainer } from "../containers/toxiproxy";
import { registerLiveCluster, teardown, TeardownError, type TeardownReport } from "../lifecycle/live";
import { StartBudget } from "../lifecycle/budget";
import { failedPhase, PhaseRunner } from "../lifecycle/phase-runner";
import { sweepOrphans } from "../lifecycle/sweep";
import { keepReservations, planPorts } from "../ports";
import { M3MsgSink } from "../sink/sink";
import { createTlsMaterial } from "../tls/material";
import { createClusterDir } from "../lifecycle/cluster-dir";
import { LOG_TAIL_LINES } from "../util/log-tail";
import { ClusterStartError } from "./errors";
import { poll } from "../util/poll";
import { tcpProbe } from "../util/socket";
import { waitForElection } from "./readiness";
import { StartedM3AggregatorCluster } from "./started";

/**
 * The points of one start that containers wait for ({@link StartOrder}): each is reached once, and
 * every one not reached yet fails when the start fails, so nothing waits past the start.
 */
export class StartEvents {
  private readonly events = new Map<Exclude<StartEvent, "now">, { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void }>();

  constructor() {
    for (const event of ["etcd-listening", "coordinator-started", "placement"] as const) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
      promise.catch(() => undefined); // a failed start need not have a waiter
      this.events.set(event, { promise, resolve, reject });
    }
  }

  /** Resolves when the start reaches `event` ("now": at once); rejects when the start fails before. */
  when(event: StartEvent): Promise<void> {
    return event === "now" ? Promise.resolve() : this.events.get(event)!.promise;
  }

  reached(event: Exclude<StartEvent, "now">): void {
    this.events.get(event)!.resolve();
  }

  /** The start failed: whatever waits for an event not reached yet fails. */
  abort(): void {
    for (const [event, { reject }] of this.events) reject(new Error(`the start failed before "${event}"`));
  }
}

/** One start's shared state: its phase runner and deadline, what it launched, and their log buffers. */
export class StartContext {
  /** The points of the start that containers wait for. */
  readonly events = new StartEvents();
  readonly phases: PhaseRunner;
  /** The whole start's deadline and abort signal (shared by every bind-retry attempt). */
  readonly budget: StartBudget;
  /** Log buffers of every container this start created, for the error of a failed start. */
  private readonly logs: Array<{ name: string; buffer: LogBuffer }> = [];
  /** The ports this start planned (the bind retry avoids them next time). */
  ports: PortPlan | undefined;
  /** The sink, as soon as it listens (also when the start was abandoned meanwhile: the failure stops it). */
  sink: M3MsgSink | undefined;

  constructor(readonly options: ResolvedClusterOptions, readonly exclude: ReadonlySet<number> = new Set(), budget?: StartBudget) {
    this.budget = budget ?? new StartBudget(options.startTimeoutMs);
    this.phases = new PhaseRunner(this.budget, options.onProgress);
  }

  get clusterId(): string {
    return this.options.clusterId;
  }

  /** Runs one named phase (progress, timing, failures tagged with the phase). */
  phase<T>(name: StartPhase, work: () => Promise<T>): Promise<T> {
    return this.phases.run(name, work);
  }

  /** A phase that runs concurrently with others: its failure is handled where it is awaited, or by {@link fail}. */
  track<T>(work: Promise<T>): Promise<T> {
    work.catch(() => undefined); // no unhandled rejection while another phase is awaited first
    return work;
  }

  /** Runs one container spec with the executor, within the start's deadline; its logs are kept for errors. */
  async launch(spec: ContainerSpec, hooks?: StartHooks): Promise<{ started: StartedTestContainer; logBuffer: LogBuffer }> {
    const prepared = prepareContainer(spec);
    this.logs.push({ name: spec.name, buffer: prepared.logBuffer });
    return { started: await prepared.start(this.phases.remaining(), hooks), logBuffer: prepared.logBuffer };
  }

  /**
   * A failed start: removes everything it created (first what runs, so the other containers' waits
   * fail at once instead of timing out; then, once every phase settled, all of it again) and throws
   * a {@link ClusterStartError} with the failed phase and every container's last log lines.
   */
  async fail(error: unknown): Promise<never> {
    this.events.abort(); // a container waiting for a point of the start not reached gives up (its work settles)
    // Every phase's work, also what a deadline or an abort left running, settles; meanwhile the
    // cluster is torn down every 250 ms, so a container created late is removed too.
    const early = await removeUntilSettled(this.clusterId, this.phases.settled());
    const { phase, cause } = failedPhase(error, "validate");
    const tails = this.logs.map((l) => ({ component: l.name, lines: l.buffer.tail(LOG_TAIL_LINES) }));
    let report: TeardownReport;
    try {
      await this.sink?.stop();
      report = await teardown(this.clusterId);
    } catch (teardownError) {
      report = teardownError instanceof TeardownError ? teardownError.report
        : { clusterId: this.clusterId, removed: [], left: ["(unknown: the teardown could not ask Docker)"], portsReleased: [], error: String(teardownError) };
    }
    throw new ClusterStartError(this.clusterId, phase, cause, tails, mergeReports(early, report));
  }
}

/**
 * Tears the cluster down every 250 ms until `settled` resolves (a start in flight may still create
 * a container); resolves with what these rounds removed.
 */
async function removeUntilSettled(clusterId: string, settled: Promise<unknown>): Promise<TeardownReport[]> {
  let done = false;
  void settled.then(() => (done = true));
  const reports: TeardownReport[] = [];
  while (!done) {
    const report = await teardown(clusterId).catch((error: unknown) => (error instanceof TeardownError ? error.report : undefined));
    if (report !== undefined) reports.push(report);
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 250))]);
  }
  return reports;
}

/** The final teardown's report, with what the earlier rounds removed. */
function mergeReports(early: TeardownReport[], last: TeardownReport): TeardownReport {
  const all = [...early, last];
  return {
    ...last,
    removed: [...new Set(all.flatMap((r) => r.removed))],
    portsReleased: [...new Set(all.flatMap((r) => r.portsReleased))].sort((a, b) => a - b),
    clusterDirRemoved: all.find((r) => r.clusterDirRemoved !== undefined)?.clusterDirRemoved,
  };
}

/** Removes containers (and certificates) of fixture processes that died without cleaning up; checks the engine answers. */
export function sweep(ctx: StartContext): Promise<void> {
  return ctx.phase("sweep", async () => {
    await dockerClient(); // a clear error before anything else when no engine answers
    await sweepOrphans(); // (their reservations, TLS folders and lock files too)
  });
}

/** With `m3Source`: builds the images from the tree (a cold build takes minutes and does not count against the start). */
export async function build(ctx: StartContext): Promise<SourceBuild | undefined> {
  const source = ctx.options.m3Source;
  if (source === undefined) return undefined;
  const built = await ctx.phase("build", () => buildFromSource(source, {
    debug: ctx.options.debug !== undefined,
    progress: (detail) => ctx.phases.progress("build", "progress", undefined, detail),
  }));
  ctx.phases.restartDeadline();
  return built;
}

/** Which image each component runs (the debug image too in debug mode). */
export function images(ctx: StartContext, sourceBuild: SourceBuild | undefined): Promise<PlanImages> {
  const { options } = ctx;
  return ctx.phase("images", async () => {
    const resolved: Partial<Record<ImageComponent, ResolvedImage>> = await resolveImages(options, sourceBuild?.images);
    if (options.debug !== undefined) resolved.m3aggregatorDebug = await resolveDebugImage(options, sourceBuild?.images);
    if (options.faults) resolved.toxiproxy = await resolveToxiproxyImage(options);
    return resolved as PlanImages;
  });
}

/** Allocates and reserves every port (none of `ctx.exclude`). */
export async function ports(ctx: StartContext): Promise<PortPlan> {
  ctx.ports = await ctx.phase("ports", () => planPorts(ctx.options, { exclude: ctx.exclude }));
  return ctx.ports;
}

/** Makes the cluster folder (each container's mounted config files are written as it is created). */
export function files(ctx: StartContext, plan: ClusterPlan): Promise<void> {
  return ctx.phase("files", async () => void createClusterDir(plan.clusterId));
}

/**
 * Writes the certificates the plan's TLS files refer to, while etcd and the coordinator start (only
 * the aggregators read them; a process's first generation takes ~0.2 s).
 */
export function tls(ctx: StartContext, plan: ClusterPlan): Promise<void> {
  const planned = plan.tls;
  if (planned === undefined) return Promise.resolve();
  return ctx.track(ctx.phase("tls", () => createTlsMaterial(planned.hostDir, plan.clusterId, planned.serverName)));
}

/** faults: true: the Toxiproxy container, and every proxy of the plan listening. */
export async function proxies(ctx: StartContext, plan: ClusterPlan): Promise<StartedToxiproxyContainer | undefined> {
  const faults = plan.faults;
  if (faults === undefined) return undefined;
  return ctx.track(ctx.phase("proxies", async () => {
    const { started, logBuffer } = await ctx.launch(faults.container);
    const toxiproxy = new StartedToxiproxyContainer(started, logBuffer, faults);
    await toxiproxy.createProxies();
    return toxiproxy;
  }));
}

export function etcd(ctx: StartContext, plan: ClusterPlan): Promise<StartedEtcdContainer> {
  return ctx.track(ctx.phase("etcd", async () => {
    let settled = false; // reached, or the start failed first: the probe stops
    ctx.events.when("etcd-listening").catch(() => undefined).finally(() => (settled = true));
    const listening = () => ctx.events.reached("etcd-listening");
    const probe = async () => settled || (await tcpProbe(plan.host, plan.etcd.clientPort, 100)) === undefined ? true : undefined;
    const { started, logBuffer } = await ctx.launch(plan.etcd.container, {
      // Polled from the moment the engine started etcd: the nodes that wait for it start sooner than its health check passes.
      onStarted: () => void poll(probe, { timeoutMs: ctx.phases.remaining(), intervalMs: 5, what: "etcd listening", signal: ctx.budget.signal })
        .then(listening, () => undefined),
    });
    listening(); // healthy implies listening (and the probe may have lost a race with the health check)
    return new StartedEtcdContainer(started, logBuffer, plan.etcd);
  }));
}

export function coordinator(ctx: StartContext, plan: ClusterPlan): Promise<StartedM3CoordinatorContainer> {
  return ctx.track(ctx.phase("coordinator", async () => {
    const { started, logBuffer } = await ctx.launch(plan.coordinator.container, { onStarted: () => ctx.events.reached("coordinator-started") });
    return new StartedM3CoordinatorContainer(started, logBuffer, plan.coordinator);
  }));
}

/** Backend "sink": the in-process m3msg consumer the aggregators flush to. */
export async function sink(ctx: StartContext, plan: ClusterPlan): Promise<M3MsgSink | undefined> {
  if (plan.sink === undefined) return undefined;
  // With faults the sink listens on the plan's port: the flush proxies forward to it.
  return ctx.track(ctx.phase("sink", async () => (ctx.sink = await M3MsgSink.start(plan.faults?.sinkListen ?? { host: plan.host }))));
}

/**
 * Creates every node at once (once `certificates` are written: they mount them), starts them (in
 * parallel) when the plan's order says, and waits for their readiness from the point it says;
 * fails naming each node that did not start.
 */
export function aggregators(ctx: StartContext, plan: ClusterPlan, certificates: Promise<void>): Promise<StartedM3AggregatorNode[]> {
  return ctx.track(ctx.phase("aggregators", async () => {
    await certificates;
    const hooks = { startAfter: ctx.events.when(plan.order.aggregatorsStart), waitAfter: ctx.events.when(plan.order.aggregatorsReadyFrom) };
    const results = await Promise.allSettled(plan.nodes.map(async (node) => {
      const { started, logBuffer } = await ctx.launch(node.container, hooks);
      return new StartedM3AggregatorNode(started, logBuffer, node);
    }));
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${plan.nodes[i]?.id}: ${String((r.reason as Error)?.message ?? r.reason)}`] : []));
    if (failed.length > 0) throw new Error(`aggregator nodes failed to start:\n${failed.join("\n")}`);
    return results.map((r) => (r as PromiseFulfilledResult<StartedM3AggregatorNode>).value);
  }));
}

/** Creates the placement (shards cut over at once) and, with the sink, registers its topic. */
export function placement(ctx: StartContext, plan: ClusterPlan, started: StartedM3CoordinatorContainer): Promise<Placement> {
  return ctx.phase("placement", async () => {
    const created = await createPlacement(started.admin, plan.placement);
    // With faults the consumer placement names the sink by a host name each node resolves to its own flush proxy.
    if (plan.sink !== undefined && ctx.sink !== undefined) {
      await registerSink(started.admin, plan.sink.topic, plan.faults?.sinkPlacementEndpoint ?? ctx.sink.endpoint, plan.inputs.ports.faults?.flush ?? ctx.sink.port);
    }
    ctx.events.reached("placement");
    return created;
  });
}

/** Waits for the plan's readiness: a settled election (nodes stopped in delve cannot elect; the user continues them). */
export function election(ctx: StartContext, plan: ClusterPlan, created: Placement, nodes: StartedM3AggregatorNode[]): Promise<void> {
  return ctx.phase("election", async () => {
    const missing = plan.nodes.filter((n) => created.instances[n.id] === undefined).map((n) => n.id);
    if (missing.length > 0) throw new Error(`placement lacks instances ${missing.join(", ")}`);
    const apis = new Map<string, AggregatorApi>(nodes.map((n) => [n.id, n.api]));
    if (plan.readiness === "election") await waitForElection(shardSetsOf(created), apis, ctx.phases.remaining(), 10, ctx.budget.signal);
  });
}

/** The started cluster's handle; from now on its stop() (or, kept for reuse, nothing) removes it. */
export function handle(ctx: StartContext, plan: ClusterPlan, parts: {
  etcd: StartedEtcdContainer; coordinator: StartedM3CoordinatorContainer; nodes: StartedM3AggregatorNode[]; toxiproxy?: StartedToxiproxyContainer;
}): StartedM3AggregatorCluster {
  ctx.budget.check(); // aborted at the last moment: remove it rather than hand it out
  const cluster = new StartedM3AggregatorCluster(plan, parts.etcd, parts.coordinator, parts.nodes, ctx.phases.finish(), false, ctx.sink, parts.toxiproxy);
  if (plan.inputs.options.reuseKey === undefined) registerLiveCluster({ id: plan.clusterId, stop: () => cluster.stop() });
  else keepReservations(plan.clusterId); // a reused cluster outlives this process on purpose, and keeps its ports until its containers are gone
  return cluster;
}
