/**
 * The cluster: the start path, top-down. {@link startOnce} lists the phases (cluster/phases.ts)
 * over one {@link StartContext}: sweep, [build, images, ports, plan], tls, then etcd, the
 * coordinator, the sink and the aggregators together, placement, election, handle. Any failure
 * removes everything the start created and throws a {@link ClusterStartError}.
 */
import type { M3AggregatorClusterOptions, ResolvedClusterOptions } from "../model/options";
import { type ClusterPlan, planCluster } from "../plan/plan";
import { teardown } from "../lifecycle/live";
import { sourceImageTags, sourceTreeTag } from "../m3/source-build";
import { acquireLock } from "../util/file-lock";
import { attachCluster } from "./attach";
import { withBindRetries } from "./bind-retry";
import { resolveOptions } from "./options";
import * as phase from "./phases";
import type { StartContext } from "./phases";
import type { StartedM3AggregatorCluster } from "./started";

/** One start: the plan made here (or the one given), run phase by phase. */
async function startOnce(ctx: StartContext, given: ClusterPlan | undefined): Promise<StartedM3AggregatorCluster> {
  phase.guardUntilStarted(ctx);
  try {
    await phase.sweep(ctx);
    let plan = given;
    if (plan === undefined) {
      const sourceBuild = await phase.build(ctx);
      const images = await phase.images(ctx, sourceBuild);
      plan = planCluster({ options: ctx.options, ports: await phase.ports(ctx), images });
    } else ctx.ports = plan.inputs.ports;
    await phase.tls(ctx, plan);
    // etcd, the coordinator and the aggregators start together: m3's etcd clients retry until
    // etcd answers, and an aggregator waits (placementWatcher.initWatchTimeout) for its placement
    // before it opens, so container start-up overlaps instead of adding up. With the sink backend
    // an aggregator exits if its flush topic is missing, so the aggregators wait for the topic.
    const etcd = phase.etcd(ctx, plan);
    const coordinator = phase.coordinator(ctx, plan);
    const sinkStarted = phase.sink(ctx, plan);
    let nodes = plan.sink === undefined ? phase.aggregators(ctx, plan) : undefined;
    await sinkStarted;
    const placement = await phase.placement(ctx, plan, (await Promise.all([etcd, coordinator]))[1]);
    nodes ??= phase.aggregators(ctx, plan);
    await phase.election(ctx, plan, placement, await nodes);
    return phase.handle(ctx, plan, { etcd: await etcd, coordinator: await coordinator, nodes: await nodes });
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

  /** Validates, starts and waits until ready. Shorthand for `new M3AggregatorCluster(options).start()`. */
  static async start(options: M3AggregatorClusterOptions = {}): Promise<StartedM3AggregatorCluster> {
    return new M3AggregatorCluster(options).start(); // async: a bad option rejects, like any other failure
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
  static remove(clusterId: string): Promise<void> {
    return teardown(clusterId);
  }

  /**
   * Starts etcd, the coordinator, creates the placement (shards cut over at
   * once), starts all aggregators in parallel and waits for a settled
   * election. On any failure everything started is removed and a
   * {@link ClusterStartError} carries the phase and the last log lines.
   * In reuse mode, attaches to the kept cluster of the same options when it is whole and ready.
   */
  async start(): Promise<StartedM3AggregatorCluster> {
    const key = this.options.reuseKey;
    if (key === undefined) return this.startNew();
    // Reuse: one process at a time decides between attaching and starting.
    const release = await acquireLock(`reuse-${key}`);
    try {
      try {
        const existing = await attachCluster(this.options.clusterId);
        const source = this.options.m3Source;
        if (source !== undefined && existing.plan.nodes[0]?.container.image !== expectedSourceImage(source, this.options.debug !== undefined)) {
          throw new Error("the kept cluster runs binaries of an older state of the source tree"); // rebuild and restart
        }
        await existing.waitForReady({ timeoutMs: 15_000 });
        return existing;
      } catch {
        await teardown(this.options.clusterId); // absent, partial or unhealthy: start afresh
      }
      return await this.startNew();
    } finally {
      release();
    }
  }

  /** A planned start, again on new ports when another program took one (see bind-retry.ts); a given plan's ports never move. */
  private startNew(): Promise<StartedM3AggregatorCluster> {
    const given = this.plan;
    return withBindRetries(this.options, given !== undefined, (ctx) => startOnce(ctx, given));
  }
}
