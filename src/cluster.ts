/**
 * The cluster: starts etcd, the coordinator, the aggregator placement and the
 * aggregator nodes in that order, waits until the cluster is ready, and
 * removes everything it started on stop() or on any failure.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { M3AdminClient } from "./admin/admin-client";
import { buildPlacementInitRequest, shardSetsOf, withImmediateCutover } from "./admin/placement";
import type { Placement } from "./admin/types";
import type { AggregatorApi } from "./aggregator-api";
import { registerSink } from "./admin/sink-registration";
import { renderAggregatorConfig, renderCoordinatorConfig, SINK_TOPIC } from "./config/render";
import { EtcdContainer, type StartedEtcdContainer } from "./containers/etcd";
import type { LogBuffer } from "./containers/log-buffer";
import { M3AggregatorContainer, type StartedM3AggregatorNode } from "./containers/m3aggregator";
import { M3CoordinatorContainer, type StartedM3CoordinatorContainer } from "./containers/m3coordinator";
import { containersWithLabel, dockerClient, removeContainers } from "./docker";
import { ClusterStartError, type LogTail, type StartPhase } from "./errors";
import { resolveDebugImage, resolveImages, type ResolvedImage } from "./images";
import { acquireLock } from "./file-lock";
import { type ClusterLabels, LABEL_CLUSTER, LABEL_OPTIONS } from "./labels";
import { type ImageNames, type M3AggregatorClusterOptions, resolveOptions, type ResolvedClusterOptions } from "./options";
import { bindFailures, describePorts, explicitPorts, keepReservations, planPorts, PortBindRetriesExhaustedError, PortInUseError, type BindAttempt, type PortPlan, releaseReservations } from "./ports";
import { sendRaw } from "./raw-lines";
import { registerLiveCluster, unregisterLiveCluster } from "./lifecycle";
import { describeElection, readElection, type ShardSetElection, waitForElection } from "./readiness";
import type { M3Version } from "./m3/versions";
import { buildFromSource, type SourceBuild, sourceImageTags, sourceTreeTag } from "./m3/source-build";
import { M3MsgSink } from "./sink/sink";
import { sweepOrphans } from "./sweep";
import { type ClusterTls, clusterTlsHandle, createTlsMaterial, removeTlsMaterial, type TlsMaterial } from "./tls/material";

/** The aggregator image a cluster built from `source` now would run (the tag follows the tree's content). */
function expectedSourceImage(source: string, debug: boolean): string {
  const tags = sourceImageTags(sourceTreeTag(source));
  return debug ? tags.m3aggregatorDebug : tags.m3aggregator;
}

/** Milliseconds spent in each phase of start(). */
export type StartupTimings = Partial<Record<StartPhase, number>> & { total: number };

/** Instance id of node `index` (0-based): m3aggregator01, m3aggregator02, … as in the seed. */
export function instanceIdOf(index: number): string {
  return `m3aggregator${String(index + 1).padStart(2, "0")}`;
}

const LOG_TAIL_LINES = 40;

/** Starts (each on newly planned ports) before a port another program keeps taking fails the start. */
const MAX_BIND_ATTEMPTS = 3;

/** One try of startOnce: ports to avoid in, the plan it made out. */
interface StartAttempt {
  exclude: ReadonlySet<number>;
  ports?: PortPlan;
}

/** Carries the phase an error happened in through concurrent phases. */
class PhaseFailure extends Error {
  constructor(readonly phase: StartPhase, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/**
 * Removes every container labelled with the cluster id (force: running,
 * paused and stopped alike), then checks Docker that none is left, then
 * releases the cluster's port reservations. Label-based, so it also catches
 * containers that were created but never handed to us.
 */
export async function teardown(clusterId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const containers = await containersWithLabel(LABEL_CLUSTER, clusterId);
    if (containers.length === 0) {
      removeTlsMaterial(clusterId); // the certificates and the port reservations live as long as the containers
      releaseReservations(clusterId);
      return;
    }
    try {
      await removeContainers(containers.map((c) => c.id));
    } catch (error) {
      if (attempt >= 3) throw new Error(`cluster ${clusterId}: could not remove ${containers.map((c) => c.name).join(", ")}`, { cause: error });
    }
  }
}

/**
 * An M3 aggregator cluster to start: validates options on construction, so a
 * bad topology throws before anything runs.
 *
 * @example
 * const cluster = await M3AggregatorCluster.start({ nodes: 4, rf: 2 });
 * try { console.log(cluster.nodes.map((n) => n.tcpEndpoint)); } finally { await cluster.stop(); }
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
        const { attachCluster } = await import("./attach");
        const existing = await attachCluster(this.options.clusterId);
        const source = this.options.m3Source;
        if (source !== undefined && existing.images.m3aggregator !== expectedSourceImage(source, this.options.debug !== undefined)) {
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
    const labels: ClusterLabels = { clusterId, reuseKey: options.reuseKey };
    const begin = Date.now();
    let deadline = begin + options.startTimeoutMs;
    const timings: StartupTimings = { total: 0 };
    const logSources: Array<{ component: string; buffer: LogBuffer }> = [];
    let phase: StartPhase = "validate";
    const inFlight: Array<Promise<unknown>> = []; // phases running concurrently; awaited before teardown
    let sink: M3MsgSink | undefined;

    // Runs one phase, records its duration, and remembers which phase failed first.
    const progress = (phase: StartPhase, state: "begin" | "end" | "failed" | "progress", ms?: number, detail?: string): void => {
      try {
        options.onProgress?.({ phase, state, ms, ...(detail === undefined ? {} : { detail }) });
      } catch {
        // a progress printer must not break the start
      }
    };
    const timed = async <T>(name: StartPhase, work: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      progress(name, "begin");
      try {
        const result = await work();
        progress(name, "end", Date.now() - t0);
        return result;
      } catch (error) {
        progress(name, "failed", Date.now() - t0);
        throw error instanceof PhaseFailure ? error : new PhaseFailure(name, error);
      } finally {
        timings[name] = Date.now() - t0;
      }
    };
    const remaining = (): number => Math.max(1_000, deadline - Date.now());

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
            progress: (detail) => progress("build", "progress", undefined, detail),
          });
        });
        deadline = Date.now() + options.startTimeoutMs; // a cold build takes minutes: it does not count against the start
      }
      const images = await timed("images", async () => {
        await dockerClient(); // a clear error before anything else when no engine answers
        // Containers of fixture processes that died without cleaning up, and their certificates.
        for (const swept of await sweepOrphans()) removeTlsMaterial(swept);
        const resolved: Partial<Record<keyof ImageNames, ResolvedImage>> = await resolveImages(options.images, options.m3Version, sourceBuild?.images);
        if (options.debug !== undefined) resolved.m3aggregatorDebug = await resolveDebugImage(options.images, options.m3Version, sourceBuild?.images);
        return resolved as Record<"m3aggregator" | "m3coordinator" | "etcd", ResolvedImage> & Partial<Record<keyof ImageNames, ResolvedImage>>;
      });
      const ports = await timed("ports", () => planPorts(options, { exclude: attempt.exclude }));
      attempt.ports = ports;
      const tlsSettings = options.tls;
      const tls: TlsMaterial | undefined = tlsSettings === undefined ? undefined
        : await timed("tls", () => createTlsMaterial(clusterId, ports.host, tlsSettings));

      // etcd, the coordinator and the aggregators start together: m3's etcd
      // clients retry until etcd answers, and an aggregator waits
      // (placementWatcher.initWatchTimeout) for its placement before it opens,
      // so container start-up overlaps instead of adding up.
      const etcdStarting = timed("etcd", async () => {
        const container = new EtcdContainer(images.etcd.image, labels, ports.host, ports.etcdClient, ports.etcdPeer)
          .withLabels({ [LABEL_OPTIONS]: JSON.stringify(options) }); // lets another process attach
        logSources.push({ component: "etcd", buffer: container.logBuffer });
        return container.start();
      });

      const instanceIds = ports.nodes.map((_, i) => instanceIdOf(i));
      const startAggregators = () => timed("aggregators", async () => {
        const containers = ports.nodes.map((nodePorts, i) => {
          const config = renderAggregatorConfig({
            host: ports.host,
            ports: nodePorts,
            etcdClientPort: ports.etcdClient,
            electionTtlSeconds: options.electionTtlSeconds,
            backend: options.backend,
            logLevel: options.logLevel,
            m3Version: options.m3Version,
            tls: options.tls,
            overrides: options.configOverrides.aggregator,
          });
          const image = options.debug === undefined ? images.m3aggregator.image : (images.m3aggregatorDebug as ResolvedImage).image;
          const container = new M3AggregatorContainer(image, labels, ports.host, instanceIds[i] as string, nodePorts, config, options.debug, tls?.containerFiles)
            .withStartupTimeout(Math.min(90_000, remaining()));
          logSources.push({ component: instanceIds[i] as string, buffer: container.logBuffer });
          return container;
        });
        const results = await Promise.allSettled(containers.map((c) => c.start()));
        const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${instanceIds[i]}: ${String((r.reason as Error)?.message ?? r.reason)}`] : []));
        if (failed.length > 0) throw new Error(`aggregator nodes failed to start:\n${failed.join("\n")}`);
        return results.map((r) => (r as PromiseFulfilledResult<StartedM3AggregatorNode>).value);
      });
      // With the sink backend an aggregator exits if its flush topic is missing, so
      // the aggregators wait for the topic; otherwise they start right away.
      const sinkBackend = options.backend === "sink";
      let aggregatorsStarting = sinkBackend ? undefined : startAggregators();
      const sinkStarting = sinkBackend ? timed("sink", () => M3MsgSink.start({ host: ports.host })) : undefined;
      const coordinatorStarting = timed("coordinator", async () => {
        const config = renderCoordinatorConfig({
          host: ports.host,
          port: ports.coordinator,
          metricsPort: ports.coordinatorMetrics,
          etcdClientPort: ports.etcdClient,
          logLevel: options.logLevel,
          m3Version: options.m3Version,
          overrides: options.configOverrides.coordinator,
        });
        const container = new M3CoordinatorContainer(images.m3coordinator.image, labels, ports.host, ports.coordinator, ports.coordinatorMetrics, config)
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
        const admin = coordinator.admin;
        await admin.initPlacement("m3aggregator", buildPlacementInitRequest({
          nodes: ports.nodes.map((p, i) => ({ id: instanceIdOf(i), endpoint: `${ports.host}:${p.tcp}`, debugPort: p.debug })),
          rf: options.rf,
          numShards: options.numShards,
          isolationGroups: options.isolationGroups,
        }));
        const created = await admin.getPlacement("m3aggregator");
        const updated = await admin.setPlacement("m3aggregator", withImmediateCutover(created.placement), created.version, true);
        if (sink !== undefined) await registerSink(admin, SINK_TOPIC, sink.endpoint, sink.port);
        return updated.placement;
      });

      if (aggregatorsStarting === undefined) {
        aggregatorsStarting = startAggregators();
        track(aggregatorsStarting);
      }
      const nodes = await aggregatorsStarting;

      const apis = new Map<string, AggregatorApi>(nodes.map((n) => [n.id, n.api]));
      await timed("election", async () => {
        const missing = instanceIds.filter((id) => placement.instances[id] === undefined);
        if (missing.length > 0) throw new Error(`placement lacks instances ${missing.join(", ")}`);
        // Nodes stopped in delve before main cannot elect; the user continues them.
        if (options.debug?.waitForDebugger !== true) await waitForElection(shardSetsOf(placement), apis, remaining());
      });

      timings.total = Date.now() - begin;
      const imageNames = Object.fromEntries(Object.entries(images).map(([k, v]) => [k, v.image])) as unknown as ImageNames;
      const cluster = new StartedM3AggregatorCluster(options, etcd, coordinator, nodes, ports, images, imageNames, timings, false, sink);
      if (options.reuseKey === undefined) registerLiveCluster(cluster);
      else {
        unregisterLiveCluster(clusterId); // a reused cluster outlives this process on purpose
        keepReservations(clusterId); // and keeps its ports until its containers are gone
      }
      return cluster;
    } catch (error) {
      // Removing what runs first makes the other containers' waits fail at once instead of timing out.
      await teardown(clusterId).catch(() => undefined);
      await Promise.all(inFlight); // every container that will start has started: remove them all
      if (error instanceof PhaseFailure) phase = error.phase;
      const cause = error instanceof PhaseFailure ? error.cause : error;
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

/** A running cluster: endpoints, clients, and stop(). */
export class StartedM3AggregatorCluster {
  /** Client of the coordinator admin API (placements, topics). */
  readonly admin: M3AdminClient;
  private stopping: Promise<void> | undefined;
  private stoppedInMs: number | undefined;

  constructor(
    /** Options after defaults. */
    readonly options: ResolvedClusterOptions,
    /** The etcd container. */
    readonly etcd: StartedEtcdContainer,
    /** The m3coordinator container. */
    readonly coordinator: StartedM3CoordinatorContainer,
    /** Aggregator nodes, in instance-id order (m3aggregator01 first). */
    readonly nodes: readonly StartedM3AggregatorNode[],
    /** Every port of the cluster. */
    readonly ports: PortPlan,
    /** The image of each component and where its name came from. */
    readonly imageSources: Readonly<Partial<Record<keyof ImageNames, ResolvedImage>>>,
    /** The image of each component. */
    readonly images: Readonly<ImageNames>,
    /** Where start() spent its time ({ total: 0 } when attached). */
    readonly startupTimings: Readonly<StartupTimings>,
    /** True when this handle attached to a cluster that was already running (reuse mode, shared cluster). */
    readonly attached: boolean,
    private readonly flushSink?: M3MsgSink,
  ) {
    this.admin = coordinator.admin;
    this.tls = options.tls === undefined ? undefined : clusterTlsHandle(options.clusterId, options.tls, ports.host);
  }

  /**
   * Raw TCP TLS of the cluster, or undefined when off: the mode, the CA and client certificate
   * files (in the cluster's own folder, removed with the cluster), and `clientOptions()` for
   * Node's `tls.connect`. The ingest client, `sendLines` and the CLI use it on their own.
   */
  readonly tls: ClusterTls | undefined;

  /** The m3 release the cluster runs (with `m3Source`: the one whose configs the tree follows). */
  get m3Version(): M3Version {
    return this.options.m3Version;
  }

  /** The local m3 checkout the images were built from, or undefined for release images. */
  get m3Source(): string | undefined {
    return this.options.m3Source;
  }

  /** Cluster id (label `org.m3agg.cluster` on every container). */
  get id(): string {
    return this.options.clusterId;
  }

  /** A node by 0-based index or instance id; throws naming the known ids otherwise. */
  node(which: number | string): StartedM3AggregatorNode {
    const node = typeof which === "number" ? this.nodes[which] : this.nodes.find((n) => n.id === which);
    if (node === undefined) {
      throw new Error(`no node ${JSON.stringify(which)} in cluster ${this.id} (nodes: ${this.nodes.map((n, i) => `${i}=${n.id}`).join(", ")})`);
    }
    return node;
  }

  /**
   * The in-process m3msg consumer receiving everything the leaders flush (backend "sink").
   * Throws for other backends, and for attached clusters (the sink lives in the process that started it).
   */
  get sink(): M3MsgSink {
    if (this.flushSink === undefined) {
      throw new Error(`cluster ${this.id} has no sink: ${this.attached ? "it lives in the process that started the cluster" : `backend is "${this.options.backend}", start with backend: "sink"`}`);
    }
    return this.flushSink;
  }

  /** `http://<host>:<port>` of the coordinator admin API. */
  getCoordinatorAdminUrl(): string {
    return this.coordinator.getAdminUrl();
  }

  /** `http://<host>:<port>` of etcd. */
  getEtcdEndpoint(): string {
    return this.etcd.getClientEndpoint();
  }

  /** The live aggregator placement, read from the coordinator. */
  async placement(): Promise<Placement> {
    return (await this.admin.getPlacement("m3aggregator")).placement;
  }

  /** Shard sets of the live placement: shardSetId → instance ids. */
  async shardSets(): Promise<Map<number, string[]>> {
    return shardSetsOf(await this.placement());
  }

  /** Election state of every shard set, from each node's /status. */
  async election(): Promise<ShardSetElection[]> {
    return readElection(await this.shardSets(), new Map(this.nodes.map((n) => [n.id, n.api])));
  }

  /** Leader instance id of each shard set (undefined where none or several lead right now). */
  async leaders(): Promise<Map<number, string | undefined>> {
    return new Map((await this.election()).map((s) => [s.shardSetId, s.leader]));
  }

  /**
   * Writes text lines to a node's raw TCP endpoint, like the seed's `nc`.
   * Text is not a valid metric for m3 (it reads framed protobuf); the node
   * closes such a connection. Resolves with the number of bytes written.
   * Over TLS when the cluster has it, unless `plaintext` (permissive mode accepts both).
   */
  sendLines(node: number | string, lines: string[], options: { plaintext?: boolean } = {}): Promise<number> {
    const target = this.node(node);
    const tlsOptions = this.tls === undefined || options.plaintext === true ? undefined : this.tls.clientOptions();
    return sendRaw(target.host, target.tcpPort, lines, 10_000, tlsOptions);
  }

  /** Every container of the cluster: etcd, coordinator, then the nodes. */
  private get components(): Array<{ component: string; logLines(): string[] }> {
    return [this.etcd, this.coordinator, ...this.nodes];
  }

  private logTails(components: string[], lines = 30): string {
    return this.components.filter((c) => components.includes(c.component))
      .map((c) => `--- last log lines of ${c.component} ---\n${c.logLines().slice(-lines).join("\n")}`).join("\n");
  }

  /**
   * Waits until shard set `shardSetId` has exactly one leader (other than `not`, when given)
   * and resolves with its instance id. On timeout the error shows every member's state and logs.
   */
  async waitForLeader(shardSetId: number, options: { not?: string; timeoutMs?: number } = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const set = (await this.election()).find((s) => s.shardSetId === shardSetId);
      if (set === undefined) throw new Error(`cluster ${this.id} has no shard set ${shardSetId}`);
      if (set.leader !== undefined && set.leader !== options.not) return set.leader;
      if (Date.now() >= deadline) {
        throw new Error(`shard set ${shardSetId} of cluster ${this.id} has no leader${options.not ? ` other than ${options.not}` : ""} after ${timeoutMs} ms:\n` +
          `${describeElection([set])}\n${this.logTails(set.members.map((m) => m.id))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Waits until the cluster is ready again, by start()'s definition: every shard set has one
   * leader and only verified followers besides it (a node that does not answer is not ready).
   */
  async waitForReady(options: { timeoutMs?: number } = {}): Promise<ShardSetElection[]> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    try {
      return await waitForElection(await this.shardSets(), new Map(this.nodes.map((n) => [n.id, n.api])), timeoutMs);
    } catch (error) {
      throw new Error(`cluster ${this.id} not ready: ${(error as Error).message}\n${this.logTails(this.nodes.map((n) => n.id))}`, { cause: error });
    }
  }

  /**
   * Writes each container's captured output to `<dir>/<clusterId>/<component>.log`
   * (default dir: `.m3agg/logs` under the working directory). Returns the cluster's folder.
   */
  writeLogs(dir = path.join(process.cwd(), ".m3agg", "logs")): string {
    const folder = path.join(dir, this.id);
    fs.mkdirSync(folder, { recursive: true });
    for (const c of this.components) fs.writeFileSync(path.join(folder, `${c.component}.log`), `${c.logLines().join("\n")}\n`);
    return folder;
  }

  /** Milliseconds the last stop() took (undefined before). */
  get stopTimeMs(): number | undefined {
    return this.stoppedInMs;
  }

  /**
   * Removes every container of the cluster. Idempotent: later calls wait for the first.
   * A reuse-mode cluster is left running (this handle is just dropped) unless `remove: true`.
   */
  stop(options: { remove?: boolean } = {}): Promise<void> {
    if (this.options.reuseKey !== undefined && options.remove !== true) return Promise.resolve();
    this.stopping ??= (async () => {
      const t0 = Date.now();
      await this.flushSink?.stop();
      await teardown(this.id);
      this.stoppedInMs = Date.now() - t0;
      unregisterLiveCluster(this.id);
    })();
    return this.stopping;
  }
}
