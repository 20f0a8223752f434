/**
 * The cluster: the start path, top-down. {@link startOnce} lists the phases (cluster/phases.ts)
 * over one {@link StartContext}: sweep, [build, images, ports, plan], files, then tls, etcd, the
 * coordinator, the sink and the aggregators together, placement, election, handle. Any failure
 * removes everything the start created and throws a {@link ClusterStartError}.
 */
import type { M3AggregatorClusterOptions, ResolvedClusterOptions } from "../model/options";
import { type ClusterPlan, planCluster } from "../plan/plan";
import { registerLiveCluster, teardown, unregisterLiveCluster } from "../lifecycle/live";
import { StartAbortedError, StartBudget } from "../lifecycle/budget";
import { claimClusterId, ClusterIdInUseError, releaseClusterId } from "../lifecycle/claim";
import { ClusterStartError } from "./errors";
import { sourceImageTags, sourceTreeTag } from "../m3/source-build";
import { acquireLock } from "../util/file-lock";
import { attachCluster } from "./attach";
import { withBindRetries } from "./bind-retry";
import type { KubernetesTargetOptions, SwarmTargetOptions } from "../model/options";
import { type StartedSwarmCluster, startSwarmCluster } from "./swarm";
import { type StartedKubernetesCluster, startKubernetesCluster } from "./kubernetes";
import { resolveOptions } from "./options";
import * as phase from "./phases";
import type { StartContext } from "./phases";
import type { StartedM3AggregatorCluster } from "./started";

/** One start: the plan made here (or the one given), run phase by phase. */
async function startOnce(ctx: StartContext, given: ClusterPlan | undefined): Promise<StartedM3AggregatorCluster> {
  try {
    await phase.sweep(ctx);
    let plan = given;
    if (plan === undefined) {
      const sourceBuild = await phase.build(ctx);
      const images = await phase.images(ctx, sourceBuild);
      plan = planCluster({ options: ctx.options, ports: await phase.ports(ctx), images });
    } else ctx.ports = plan.inputs.ports;
    await phase.files(ctx, plan);
    const certificates = phase.tls(ctx, plan);
    // faults: true: every link runs through Toxiproxy, so its proxies listen before anything dials them.
    const toxiproxy = await phase.proxies(ctx, plan);
    // etcd, the coordinator and the aggregators are created together (m3's etcd clients retry until
    // etcd answers, and an aggregator waits for its placement before it opens), so container
    // start-up overlaps instead of adding up; the plan's order says when the engine starts the
    // aggregators and when their readiness is polled (plan.order, ctx.events).
    const etcd = phase.etcd(ctx, plan);
    const coordinator = phase.coordinator(ctx, plan);
    const sinkStarted = phase.sink(ctx, plan);
    const nodes = phase.aggregators(ctx, plan, certificates);
    await sinkStarted;
    const placement = await phase.placement(ctx, plan, (await Promise.all([etcd, coordinator]))[1]);
    await phase.election(ctx, plan, placement, await nodes);
    return phase.handle(ctx, plan, { etcd: await etcd, coordinator: await coordinator, nodes: await nodes, toxiproxy });
  } catch (error) {
    return ctx.fail(error);
  }
}

/** The aggregator image a cluster built from `source` now would run (the tag follows the tree's content). */
function expectedSourceImage(source: string, debug: boolean): string {
  const tags = sourceImageTags(sourceTreeTag(source));
  return debug ? tags.m3aggregatorDebug : tags.m3aggregator;
}

/**
 * An M3 aggregator cluster to start: validates options on construction, so a
 * bad topology throws before anything runs. Also the way to a cluster that runs already
 * ({@link attach}) and to remove one by id ({@link remove}).
 *
 * @example
 * const cluster = await M3AggregatorCluster.start({ nodes: 4, rf: 2 });
 * try { console.log(cluster.nodes.map((n) => n.getTcpEndpoint())); } finally { await cluster.stop(); }
 */
export class M3AggregatorCluster {
  /** Options after defaults. */
  readonly options: ResolvedClusterOptions;
  /** The plan to run, when made with {@link fromPlan}; otherwise start() makes it. */
  readonly plan: ClusterPlan | undefined;

  /** @throws InvalidOptionError on the first bad option. */
  constructor(options: M3AggregatorClusterOptions = {}) {
    this.options = resolveOptions(options);
    this.plan = undefined;
  }

  /**
   * Validates, starts and waits until ready. Shorthand for `new M3AggregatorCluster(options).start()`.
   * With `target: { swarm }` it deploys the cluster as a stack on a Docker Swarm, with
   * `target: { kubernetes }` it applies it to a namespace of a Kubernetes cluster (README "Beyond one machine").
   */
  static async start(options: M3AggregatorClusterOptions & { target: { swarm: SwarmTargetOptions } }): Promise<StartedSwarmCluster>;
  static async start(options: M3AggregatorClusterOptions & { target: { kubernetes: KubernetesTargetOptions } }): Promise<StartedKubernetesCluster>;
  static async start(options?: M3AggregatorClusterOptions): Promise<StartedM3AggregatorCluster>;
  static async start(options: M3AggregatorClusterOptions = {}): Promise<StartedM3AggregatorCluster | StartedSwarmCluster | StartedKubernetesCluster> {
    const fixture = new M3AggregatorCluster(options); // async: a bad option rejects, like any other failure
    if (fixture.options.target.kind === "swarm") return startSwarmCluster(fixture.options);
    if (fixture.options.target.kind === "kubernetes") return startKubernetesCluster(fixture.options);
    return fixture.start();
  }

  /**
   * A cluster that runs `plan` as it is: a plan a test made with `planCluster` (internals) or
   * edited, like m3's `NewClusterFromSpecification`. Its ports are used as planned (never moved).
   */
  static fromPlan(plan: ClusterPlan): M3AggregatorCluster {
    return Object.assign(Object.create(M3AggregatorCluster.prototype) as M3AggregatorCluster, { options: plan.inputs.options, plan });
  }

  /**
   * Handles for the running cluster `clusterId` (started by this or another process), rebuilt
   * from its plan label. @throws AttachError when it is not there or not whole.
   */
  static attach(clusterId: string): Promise<StartedM3AggregatorCluster> {
    return attachCluster(clusterId);
  }

  /** Removes every container of cluster `clusterId`, its certificates and port reservations (no error when none). */
  static async remove(clusterId: string): Promise<void> {
    await teardown(clusterId);
  }

  /**
   * Starts etcd, the coordinator, creates the placement (shards cut over at
   * once), starts all aggregators in parallel and waits for a settled
   * election. On any failure everything started is removed and a
   * {@link ClusterStartError} carries the phase, the last log lines and what the teardown removed.
   * In reuse mode, attaches to the kept cluster of the same options when it is whole and ready.
   *
   * `startTimeoutMs` bounds all of it: lock waits, retries on other ports and every wait. `signal`
   * aborts the start (e.g. a test runner's hook gave up): it removes whatever it brought up and
   * rejects. A clusterId that a live cluster uses is refused at once ({@link ClusterIdInUseError}).
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<StartedM3AggregatorCluster> {
    const target = this.options.target.kind;
    if (target === "swarm") throw new Error("a swarm cluster starts with the static M3AggregatorCluster.start(options), which returns its handle");
    if (target === "kubernetes") throw new Error("a kubernetes cluster starts with the static M3AggregatorCluster.start(options), which returns its handle");
    const clusterId = this.options.clusterId;
    const budget = new StartBudget(this.options.startTimeoutMs, options.signal);
    // Until start() returns, a signal aborts it, and the start removes whatever it brought up.
    let settled!: () => void;
    const done = new Promise<void>((resolve) => (settled = resolve));
    const starting = { id: clusterId, stop: () => { budget.abort(new StartAbortedError(new Error("interrupted by a signal"))); return done; } };
    registerLiveCluster(starting);
    try {
      return await guarded(budget, clusterId, this.options.reuseKey, () => this.startNew(budget));
    } catch (error) {
      if (error instanceof ClusterStartError || error instanceof ClusterIdInUseError) throw error;
      throw new ClusterStartError(clusterId, "claim", error); // outside any phase: the reuse lock wait, or the claim (nothing started)
    } finally {
      budget.dispose();
      unregisterLiveCluster(clusterId, starting); // a started cluster is registered by its handle (a kept one is not)
      settled();
    }
  }

  /** A planned start, again on new ports when another program took one (see bind-retry.ts); a given plan's ports never move. */
  private startNew(budget: StartBudget): Promise<StartedM3AggregatorCluster> {
    const given = this.plan;
    return withBindRetries(this.options, given !== undefined, (ctx) => startOnce(ctx, given), budget);
  }
}

/**
 * Reuse: attaches to the kept cluster, or starts it (one process at a time decides). Otherwise:
 * claims the cluster id (refused at once when a live cluster uses it), then starts.
 */
async function guarded(budget: StartBudget, clusterId: string, reuseKey: string | undefined,
  startNew: () => Promise<StartedM3AggregatorCluster>): Promise<StartedM3AggregatorCluster> {
  if (reuseKey === undefined) return claimed(budget, clusterId, startNew, false);
  const release = await acquireLock(`reuse-${reuseKey}`, budget.remaining(), undefined, { signal: budget.signal });
  try {
    try {
      const existing = await attachCluster(clusterId);
      const source = existing.options.m3Source;
      if (source !== undefined && existing.plan.nodes[0]?.container.image !== expectedSourceImage(source, existing.options.debug !== undefined)) {
        throw new Error("the kept cluster runs binaries of an older state of the source tree"); // rebuild and restart
      }
      // A kept faults cluster starts healed: no toxic of an earlier run stays on a link.
      await budget.race(existing.toxiproxy?.client.resetAll() ?? Promise.resolve());
      await budget.race(existing.waitForReady({ timeoutMs: Math.min(15_000, budget.remaining()) }));
      return existing;
    } catch {
      budget.check(); // out of time or aborted: no fresh start
      await teardown(clusterId); // absent, partial or unhealthy: start afresh
    }
    // A kept cluster outlives this process: the id is claimed only while it starts.
    return await claimed(budget, clusterId, startNew, true);
  } finally {
    release();
  }
}

/** Runs `work` holding the claim on the cluster id; refuses at once when a live cluster uses it. */
async function claimed(budget: StartBudget, clusterId: string, work: () => Promise<StartedM3AggregatorCluster>,
  releaseAfter: boolean): Promise<StartedM3AggregatorCluster> {
  try {
    budget.check();
    await claimClusterId(clusterId); // not raced: a claim that lands after an abort must still be released below
  } catch (error) {
    if (error instanceof ClusterIdInUseError) throw error;
    throw new ClusterStartError(clusterId, "claim", error); // nothing was started
  }
  let ok = false;
  try {
    budget.check();
    const cluster = await work();
    ok = true;
    return cluster;
  } finally {
    // The claim lives as long as this process owns the cluster (released by stop()).
    if (!ok || releaseAfter) releaseClusterId(clusterId);
  }
}
