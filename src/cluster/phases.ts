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
import type { ClusterPlan, PlanImages } from "../plan/plan";
import type { ContainerSpec } from "../plan/spec";
import { StartedEtcdContainer } from "../containers/etcd";
import { prepareContainer } from "../containers/executor";
import type { LogBuffer } from "../containers/log-buffer";
import { StartedM3AggregatorNode } from "../containers/m3aggregator";
import { StartedM3CoordinatorContainer } from "../containers/m3coordinator";
import { dockerClient } from "../docker/client";
import { resolveDebugImage, resolveImages } from "../docker/images";
import { registerLiveCluster, teardown, unregisterLiveCluster } from "../lifecycle/live";
import { failedPhase, PhaseRunner } from "../lifecycle/phase-runner";
import { sweepOrphans } from "../lifecycle/sweep";
import { keepReservations, planPorts } from "../ports";
import { M3MsgSink } from "../sink/sink";
import { createTlsMaterial, removeTlsMaterial } from "../tls/material";
import { LOG_TAIL_LINES } from "../util/log-tail";
import { ClusterStartError } from "./errors";
import { waitForElection } from "./readiness";
import { StartedM3AggregatorCluster } from "./started";

/** One start's shared state: its phase runner and deadline, what it launched, and their log buffers. */
export class StartContext {
  readonly phases: PhaseRunner;
  /** Log buffers of every container this start created, for the error of a failed start. */
  private readonly logs: Array<{ name: string; buffer: LogBuffer }> = [];
  /** Phases running concurrently; a failed start waits for them before its final teardown. */
  private readonly inFlight: Array<Promise<unknown>> = [];
  /** The ports this start planned (the bind retry avoids them next time). */
  ports: PortPlan | undefined;
  sink: M3MsgSink | undefined;

  constructor(readonly options: ResolvedClusterOptions, readonly exclude: ReadonlySet<number> = new Set()) {
    this.phases = new PhaseRunner(options.startTimeoutMs, options.onProgress);
  }

  get clusterId(): string {
    return this.options.clusterId;
  }

  /** Runs one named phase (progress, timing, failures tagged with the phase). */
  phase<T>(name: StartPhase, work: () => Promise<T>): Promise<T> {
    return this.phases.run(name, work);
  }

  /** Keeps a phase that runs concurrently with others, so a failed start also removes what it started. */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.push(work.catch(() => undefined));
    return work;
  }

  /** Runs one container spec with the executor, within the start's deadline; its logs are kept for errors. */
  async launch(spec: ContainerSpec): Promise<{ started: StartedTestContainer; logBuffer: LogBuffer }> {
    const prepared = prepareContainer(spec);
    this.logs.push({ name: spec.name, buffer: prepared.logBuffer });
    return { started: await prepared.start(this.phases.remaining()), logBuffer: prepared.logBuffer };
  }

  /**
   * A failed start: removes everything it created (first what runs, so the other containers' waits
   * fail at once instead of timing out; then, once every phase settled, all of it again) and throws
   * a {@link ClusterStartError} with the failed phase and every container's last log lines.
   */
  async fail(error: unknown): Promise<never> {
    await teardown(this.clusterId).catch(() => undefined);
    await Promise.all(this.inFlight); // every container that will start has started: remove them all
    const { phase, cause } = failedPhase(error, "validate");
    const tails = this.logs.map((l) => ({ component: l.name, lines: l.buffer.tail(LOG_TAIL_LINES) }));
    try {
      await this.sink?.stop();
      await teardown(this.clusterId);
      unregisterLiveCluster(this.clusterId);
    } catch (teardownError) {
      tails.push({ component: "teardown", lines: [String(teardownError)] });
    }
    throw new ClusterStartError(this.clusterId, phase, cause, tails);
  }
}

/** Until start() returns, a signal or exit removes whatever this start created. */
export function guardUntilStarted(ctx: StartContext): void {
  registerLiveCluster({ id: ctx.clusterId, stop: () => teardown(ctx.clusterId) });
}

/** Removes containers (and certificates) of fixture processes that died without cleaning up; checks the engine answers. */
export function sweep(ctx: StartContext): Promise<void> {
  return ctx.phase("sweep", async () => {
    await dockerClient(); // a clear error before anything else when no engine answers
    for (const swept of await sweepOrphans()) removeTlsMaterial(swept);
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
    return resolved as PlanImages;
  });
}

/** Allocates and reserves every port (none of `ctx.exclude`). */
export async function ports(ctx: StartContext): Promise<PortPlan> {
  ctx.ports = await ctx.phase("ports", () => planPorts(ctx.options, { exclude: ctx.exclude }));
  return ctx.ports;
}

/** Writes the certificates the plan's TLS files refer to. */
export async function tls(ctx: StartContext, plan: ClusterPlan): Promise<void> {
  const planned = plan.tls;
  if (planned !== undefined) await ctx.phase("tls", () => createTlsMaterial(plan.clusterId, planned.serverName));
}

export function etcd(ctx: StartContext, plan: ClusterPlan): Promise<StartedEtcdContainer> {
  return ctx.track(ctx.phase("etcd", async () => {
    const { started, logBuffer } = await ctx.launch(plan.etcd.container);
    return new StartedEtcdContainer(started, logBuffer, plan.etcd);
  }));
}

export function coordinator(ctx: StartContext, plan: ClusterPlan): Promise<StartedM3CoordinatorContainer> {
  return ctx.track(ctx.phase("coordinator", async () => {
    const { started, logBuffer } = await ctx.launch(plan.coordinator.container);
    return new StartedM3CoordinatorContainer(started, logBuffer, plan.coordinator);
  }));
}

/** Backend "sink": the in-process m3msg consumer the aggregators flush to. */
export async function sink(ctx: StartContext, plan: ClusterPlan): Promise<M3MsgSink | undefined> {
  if (plan.sink === undefined) return undefined;
  ctx.sink = await ctx.track(ctx.phase("sink", () => M3MsgSink.start({ host: plan.host })));
  return ctx.sink;
}

/** Starts every node in parallel; fails naming each node that did not start. */
export function aggregators(ctx: StartContext, plan: ClusterPlan): Promise<StartedM3AggregatorNode[]> {
  return ctx.track(ctx.phase("aggregators", async () => {
    const results = await Promise.allSettled(plan.nodes.map(async (node) => {
      const { started, logBuffer } = await ctx.launch(node.container);
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
    if (plan.sink !== undefined && ctx.sink !== undefined) await registerSink(started.admin, plan.sink.topic, ctx.sink.endpoint, ctx.sink.port);
    return created;
  });
}

/** Waits for the plan's readiness: a settled election (nodes stopped in delve cannot elect; the user continues them). */
export function election(ctx: StartContext, plan: ClusterPlan, created: Placement, nodes: StartedM3AggregatorNode[]): Promise<void> {
  return ctx.phase("election", async () => {
    const missing = plan.nodes.filter((n) => created.instances[n.id] === undefined).map((n) => n.id);
    if (missing.length > 0) throw new Error(`placement lacks instances ${missing.join(", ")}`);
    const apis = new Map<string, AggregatorApi>(nodes.map((n) => [n.id, n.api]));
    if (plan.readiness === "election") await waitForElection(shardSetsOf(created), apis, ctx.phases.remaining());
  });
}

/** The started cluster's handle; from now on its stop() (or, kept for reuse, nothing) removes it. */
export function handle(ctx: StartContext, plan: ClusterPlan, parts: {
  etcd: StartedEtcdContainer; coordinator: StartedM3CoordinatorContainer; nodes: StartedM3AggregatorNode[];
}): StartedM3AggregatorCluster {
  const cluster = new StartedM3AggregatorCluster(plan, parts.etcd, parts.coordinator, parts.nodes, ctx.phases.finish(), false, ctx.sink);
  if (plan.inputs.options.reuseKey === undefined) registerLiveCluster({ id: plan.clusterId, stop: () => cluster.stop() });
  else {
    unregisterLiveCluster(plan.clusterId); // a reused cluster outlives this process on purpose
    keepReservations(plan.clusterId); // and keeps its ports until its containers are gone
  }
  return cluster;
}
