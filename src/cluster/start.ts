/**
 * The cluster: starts etcd, the coordinator, the aggregator placement and the
 * aggregator nodes in that order, waits until the cluster is ready, and
 * removes everything it started on stop() or on any failure.
 */
import { shardSetsOf } from "../m3/placement";
import type { AggregatorApi } from "../m3/aggregator-api";
import { registerSink } from "../m3/sink-registration";
import { SINK_TOPIC } from "../m3/config-render";
import { type PlanImages, planCluster } from "../plan/plan";
import { createPlacement } from "../m3/create-placement";
import { EtcdContainer } from "../containers/etcd";
import type { LogBuffer } from "../containers/log-buffer";
import { M3AggregatorContainer, type StartedM3AggregatorNode } from "../containers/m3aggregator";
import { M3CoordinatorContainer } from "../containers/m3coordinator";
import { dockerClient } from "../docker/client";
import { ClusterStartError } from "./errors";
import { type LogTail, type StartPhase } from "../model/phases";
import { resolveDebugImage, resolveImages } from "../docker/images";
import type { ResolvedImage, ImageNames } from "../model/components";
import { attachCluster } from "./attach";
import { acquireLock } from "../util/file-lock";
import { type M3AggregatorClusterOptions, type ResolvedClusterOptions } from "../model/options";
import { resolveOptions } from "./options";
import { bindFailures, describePorts, explicitPorts, keepReservations, planPorts, PortBindRetriesExhaustedError, PortInUseError, type BindAttempt } from "../ports";
import type { PortPlan } from "../model/network";
import { registerLiveCluster, teardown, unregisterLiveCluster } from "../lifecycle/live";
import { StartedM3AggregatorCluster } from "./started";
import { failedPhase, PhaseRunner } from "../lifecycle/phase-runner";
import { LOG_TAIL_LINES } from "../util/log-tail";
import { waitForElection } from "./readiness";
import { buildFromSource, type SourceBuild, sourceImageTags, sourceTreeTag } from "../m3/source-build";
import { M3MsgSink } from "../sink/sink";
import { sweepOrphans } from "../lifecycle/sweep";
import { createTlsMaterial, removeTlsMaterial, type TlsMaterial } from "../tls/material";

/** The aggregator image a cluster built from `source` now would run (the tag follows the tree's content). */
function expectedSourceImage(source: string, debug: boolean): string {
  const tags = sourceImageTags(sourceTreeTag(source));
  return debug ? tags.m3aggregatorDebug : tags.m3aggregator;
}


/** Starts (each on newly planned ports) before a port another program keeps taking fails the start. */
const MAX_BIND_ATTEMPTS = 3;

/** One try of startOnce: ports to avoid in, the plan it made out. */
interface StartAttempt {
  exclude: ReadonlySet<number>;
  ports?: PortPlan;
}

/**
 * An M3 aggregator cluster to start: validates options on construction, so a
 * bad topology throws before anything runs.
 *
 * @example
 * const cluster = await M3AggregatorCluster.start({ nodes: 4, rf: 2 });
 * try { console.log(cluster.nodes.map((n) => n.getTcpEndpoint())); } finally { await cluster.stop(); }
 */
export class M3AggregatorCluster {
  readonly options: ResolvedClusterOptions;

  /** @throws InvalidOptionError on the first bad option. */
  constructor(options: M3AggregatorClusterOptions = {}) {
    this.options = resolveOptions(options);
  }

  /** Validates, starts and waits until ready. Shorthand for `new M3AggregatorCluster(options).start()`. */
  static async start(options: M3AggregatorClusterOptions = {}): Promise<StartedM3AggregatorCluster> {
    return new M3AggregatorCluster(options).start(); // async: a bad option rejects, like any other failure
  }

  /**
   * Starts etcd, the coordinator, creates the placement (shards cut over at
   * once), starts all aggregators in parallel and waits for a settled
   * election. On any failure everything started is removed and a
   * {@link ClusterStartError} carries the phase and the last log lines.
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
        if (source !== undefined && existing.plan.nodes[0]?.image !== expectedSourceImage(source, this.options.debug !== undefined)) {
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

  /**
   * startOnce, again on newly planned ports when a container exited because another program took
   * its port (recognised by its "address already in use" log line), at most {@link MAX_BIND_ATTEMPTS}
   * times. An explicit port is never moved: its bind failure is a {@link PortInUseError}.
   */
  private async startNew(): Promise<StartedM3AggregatorCluster> {
    const attempts: BindAttempt[] = [];
    const exclude = new Set<number>();
    for (;;) {
      const attempt: StartAttempt = { exclude };
      try {
        return await this.startOnce(attempt);
      } catch (error) {
        const failures = error instanceof ClusterStartError ? bindFailures(error.logTails) : [];
        if (!(error instanceof ClusterStartError) || failures.length === 0 || attempt.ports === undefined) throw error;
        attempts.push({ ports: describePorts(attempt.ports), failures });
        const explicit = explicitPorts(this.options);
        const onExplicit = failures.flatMap((f) => explicit.filter((e) => e.port === f.port).map((e) => ({ ...e, line: f.line })))[0];
        if (onExplicit !== undefined) {
          throw new ClusterStartError(this.options.clusterId, error.phase, new PortInUseError(onExplicit.port, onExplicit.purpose, attempt.ports.host,
            `was taken by another program after the check (${onExplicit.line})`), error.logTails);
        }
        if (attempts.length >= MAX_BIND_ATTEMPTS) {
          throw new ClusterStartError(this.options.clusterId, error.phase, new PortBindRetriesExhaustedError(attempts), error.logTails);
        }
        // Next plan: none of this attempt's ports (explicit ones are exempt from exclusion), nor the port named in the line.
        for (const p of describePorts(attempt.ports)) exclude.add(p.port);
        for (const f of failures) if (f.port !== undefined) exclude.add(f.port);
      }
    }
  }

  private async startOnce(attempt: StartAttempt): Promise<StartedM3AggregatorCluster> {
    const options = this.options;
    const clusterId = options.clusterId;
    const phases = new PhaseRunner(options.startTimeoutMs, options.onProgress);
    const timed = <T>(name: StartPhase, work: () => Promise<T>): Promise<T> => phases.run(name, work);
    const remaining = (): number => phases.remaining();
    const logSources: Array<{ component: string; buffer: LogBuffer }> = [];
    const inFlight: Array<Promise<unknown>> = []; // phases running concurrently; awaited before teardown
    let sink: M3MsgSink | undefined;

    // Until start() returns, a signal or exit removes whatever this start created.
    registerLiveCluster({ id: clusterId, stop: () => teardown(clusterId) });
    try {
      let sourceBuild: SourceBuild | undefined;
      if (options.m3Source !== undefined) {
        const source = options.m3Source;
        sourceBuild = await timed("build", async () => {
          await dockerClient(); // a clear error before anything else when no engine answers
          return buildFromSource(source, {
            debug: options.debug !== undefined,
            progress: (detail) => phases.progress("build", "progress", undefined, detail),
          });
        });
        phases.restartDeadline(); // a cold build takes minutes: it does not count against the start
      }
      const images = await timed("images", async () => {
        await dockerClient(); // a clear error before anything else when no engine answers
        // Containers of fixture processes that died without cleaning up, and their certificates.
        for (const swept of await sweepOrphans()) removeTlsMaterial(swept);
        const resolved: Partial<Record<keyof ImageNames, ResolvedImage>> = await resolveImages(options.images, options.m3Version, sourceBuild?.images);
        if (options.debug !== undefined) resolved.m3aggregatorDebug = await resolveDebugImage(options.images, options.m3Version, sourceBuild?.images);
        return resolved as PlanImages;
      });
      const ports = await timed("ports", () => planPorts(options, { exclude: attempt.exclude }));
      attempt.ports = ports;
      const plan = planCluster({ options, ports, images });
      const tlsSettings = options.tls;
      const tls: TlsMaterial | undefined = tlsSettings === undefined ? undefined
        : await timed("tls", () => createTlsMaterial(clusterId, ports.host));

      // etcd, the coordinator and the aggregators start together: m3's etcd
      // clients retry until etcd answers, and an aggregator waits
      // (placementWatcher.initWatchTimeout) for its placement before it opens,
      // so container start-up overlaps instead of adding up.
      const etcdStarting = timed("etcd", async () => {
        const container = new EtcdContainer(plan.etcd.image, plan.etcd.labels, plan.host, plan.etcd.clientPort, plan.etcd.args);
        logSources.push({ component: "etcd", buffer: container.logBuffer });
        return container.start();
      });

      const startAggregators = () => timed("aggregators", async () => {
        const containers = plan.nodes.map((node) => {
          const container = new M3AggregatorContainer(plan.host, node, options.debug, tls?.containerFiles)
            .withStartupTimeout(Math.min(90_000, remaining()));
          logSources.push({ component: node.id, buffer: container.logBuffer });
          return container;
        });
        const results = await Promise.allSettled(containers.map((c) => c.start()));
        const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${plan.nodes[i]?.id}: ${String((r.reason as Error)?.message ?? r.reason)}`] : []));
        if (failed.length > 0) throw new Error(`aggregator nodes failed to start:\n${failed.join("\n")}`);
        return results.map((r) => (r as PromiseFulfilledResult<StartedM3AggregatorNode>).value);
      });
      // With the sink backend an aggregator exits if its flush topic is missing, so
      // the aggregators wait for the topic; otherwise they start right away.
      const sinkBackend = options.backend === "sink";
      let aggregatorsStarting = sinkBackend ? undefined : startAggregators();
      const sinkStarting = sinkBackend ? timed("sink", () => M3MsgSink.start({ host: plan.host })) : undefined;
      const coordinatorStarting = timed("coordinator", async () => {
        const container = new M3CoordinatorContainer(plan.coordinator.image, plan.coordinator.labels, plan.host, plan.coordinator.port, plan.coordinator.config)
          .withStartupTimeout(Math.min(60_000, remaining()));
        logSources.push({ component: "m3coordinator", buffer: container.logBuffer });
        return container.start();
      });
      const track = (p: Promise<unknown> | undefined) => {
        if (p !== undefined) inFlight.push(p.catch(() => undefined));
      };
      [etcdStarting, aggregatorsStarting, coordinatorStarting, sinkStarting].forEach(track);
      sink = await sinkStarting;
      const [etcd, coordinator] = await Promise.all([etcdStarting, coordinatorStarting]);

      const placement = await timed("placement", async () => {
        const created = await createPlacement(coordinator.admin, plan.placement);
        if (sink !== undefined) await registerSink(coordinator.admin, SINK_TOPIC, sink.endpoint, sink.port);
        return created;
      });

      if (aggregatorsStarting === undefined) {
        aggregatorsStarting = startAggregators();
        track(aggregatorsStarting);
      }
      const nodes = await aggregatorsStarting;

      const apis = new Map<string, AggregatorApi>(nodes.map((n) => [n.id, n.api]));
      await timed("election", async () => {
        const missing = plan.nodes.filter((n) => placement.instances[n.id] === undefined).map((n) => n.id);
        if (missing.length > 0) throw new Error(`placement lacks instances ${missing.join(", ")}`);
        // Nodes stopped in delve before main cannot elect; the user continues them.
        if (options.debug?.waitForDebugger !== true) await waitForElection(shardSetsOf(placement), apis, remaining());
      });

      const cluster = new StartedM3AggregatorCluster(plan, etcd, coordinator, nodes, phases.finish(), false, sink);
      if (options.reuseKey === undefined) registerLiveCluster({ id: clusterId, stop: () => cluster.stop() });
      else {
        unregisterLiveCluster(clusterId); // a reused cluster outlives this process on purpose
        keepReservations(clusterId); // and keeps its ports until its containers are gone
      }
      return cluster;
    } catch (error) {
      // Removing what runs first makes the other containers' waits fail at once instead of timing out.
      await teardown(clusterId).catch(() => undefined);
      await Promise.all(inFlight); // every container that will start has started: remove them all
      const { phase, cause } = failedPhase(error, "validate");
      const tails: LogTail[] = logSources.map((s) => ({ component: s.component, lines: s.buffer.tail(LOG_TAIL_LINES) }));
      try {
        await sink?.stop();
        await teardown(clusterId);
        unregisterLiveCluster(clusterId);
      } catch (teardownError) {
        tails.push({ component: "teardown", lines: [String(teardownError)] });
      }
      throw new ClusterStartError(clusterId, phase, cause, tails);
    }
  }
}

