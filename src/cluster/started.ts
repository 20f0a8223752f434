/**
 * A running cluster: its containers' handles, clients, readiness waits and stop().
 * Made by M3AggregatorCluster.start() and by attachCluster(); imports neither, so
 * the start and attach modules do not import each other.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { M3AdminClient } from "../m3/admin-client";
import { shardSetsOf } from "../m3/placement";
import type { Placement } from "../m3/types";
import type { ClusterPlan } from "../plan/plan";
import type { StartedEtcdContainer } from "../containers/etcd";
import type { StartedM3AggregatorNode } from "../containers/m3aggregator";
import type { StartedM3CoordinatorContainer } from "../containers/m3coordinator";
import type { ResolvedImage, ImageNames } from "../model/components";
import { teardown, unregisterLiveCluster } from "../lifecycle/live";
import { releaseClusterId } from "../lifecycle/claim";
import type { M3Version } from "../model/versions";
import type { ResolvedClusterOptions } from "../model/options";
import type { PortPlan } from "../model/network";
import { sendRaw } from "../util/socket";
import { poll } from "../util/poll";
import { describeElection, readElection, type ShardSetElection, waitForElection } from "./readiness";
import type { StartupTimings } from "../model/phases";
import type { M3MsgSink } from "../sink/sink";
import { type ClusterTls, clusterTlsHandle } from "../tls/material";
import { formatLogTail } from "../util/log-tail";
import { type ResetOptions, type ResetReport, resetCluster } from "./reset";
import { followContainerLogs, type FollowLogsOptions, type LogFollower } from "../docker/follow-logs";
import type { StartedToxiproxyContainer } from "../containers/toxiproxy";
import { FaultLog, type FaultRecord, FaultsDisabledError, LinkFaults, nodeLinkMap } from "../faults/network";
import { addNodes, removeNodes, replaceNode, type TopologyChange, type TopologyOptions } from "./topology";
import { attachNodes, nodePlansOf } from "./node-containers";
import { containersWithLabel } from "../docker/client";
import type { StartedCluster } from "./handle";
import { LABEL_CLUSTER } from "../model/labels";
import { clusterOwnerOf } from "../docker/labels";

export type { StartupTimings } from "../model/phases";

/** A running cluster: endpoints, clients, and stop(). */
export class StartedM3AggregatorCluster implements StartedCluster {
  /** Client of the coordinator admin API (placements, topics). */
  readonly admin: M3AdminClient;
  private stopping: Promise<void> | undefined;
  private nodeList: StartedM3AggregatorNode[];
  /** One topology change at a time: the next waits for the previous. */
  private changing: Promise<unknown> = Promise.resolve();
  private stoppedInMs: number | undefined;

  /** Options after defaults. */
  readonly options: ResolvedClusterOptions;
  /** Every port of the cluster. */
  readonly ports: PortPlan;
  /** The image of each component and where its name came from ("attached" when this handle attached). */
  readonly imageSources: Readonly<Partial<Record<keyof ImageNames, ResolvedImage>>>;
  /** The image of each component. */
  readonly images: Readonly<ImageNames>;

  constructor(
    /** The plan the cluster was started from: ids, endpoints, configs, labels, placement request. */
    readonly plan: ClusterPlan,
    /** The etcd container. */
    readonly etcd: StartedEtcdContainer,
    /** The m3coordinator container. */
    readonly coordinator: StartedM3CoordinatorContainer,
    /** Aggregator nodes, in instance-id order (m3aggregator01 first). */
    nodes: readonly StartedM3AggregatorNode[],
    /** Where start() spent its time ({ total: 0 } when attached). */
    readonly startupTimings: Readonly<StartupTimings>,
    /** True when this handle attached to a cluster that was already running (reuse mode, shared cluster). */
    readonly attached: boolean,
    private readonly flushSink?: M3MsgSink,
    /** The fault proxy (`faults: true`), else undefined. */
    readonly toxiproxy?: StartedToxiproxyContainer,
  ) {
    const { options, ports, images } = plan.inputs;
    this.options = options;
    this.ports = ports;
    this.imageSources = attached
      ? Object.fromEntries(Object.entries(images).map(([k, v]) => [k, { image: v.image, source: "attached" }]))
      : images;
    this.images = Object.fromEntries(Object.entries(images).map(([k, v]) => [k, v.image])) as unknown as ImageNames;
    this.admin = coordinator.admin;
    this.nodeList = [...nodes];
    this.tls = plan.tls === undefined ? undefined : clusterTlsHandle(plan.tls.hostDir, plan.tls.settings, plan.tls.serverName);
    // Link faults: live with faults: true, else every call throws naming the option.
    this.faultLog = toxiproxy === undefined ? undefined : new FaultLog();
    const client = toxiproxy?.client;
    for (const node of nodes) {
      node.setNetwork(new LinkFaults(client, this.getClusterId(), node.id, nodeLinkMap(node.id), this.faultLog, `${node.id}.network`));
    }
    const etcdProxies = [...nodes.map((n) => `${n.id}.etcd`), "m3coordinator.etcd"];
    etcd.setNetwork(new LinkFaults(client, this.getClusterId(), "etcd", new Map([["etcd", etcdProxies]]), this.faultLog, "etcd.network"));
  }

  /**
   * Raw TCP TLS of the cluster, or undefined when off: the mode, the CA and client certificate
   * files (in the cluster's own folder, removed with the cluster), and `clientOptions()` for
   * Node's `tls.connect`. The ingest client, `sendLines` and the CLI use it on their own.
   */
  readonly tls: ClusterTls | undefined;

  /** The m3 release the cluster runs (with `m3Source`: the one whose configs the tree follows). */
  getM3Version(): M3Version {
    return this.options.m3Version;
  }

  /** The local m3 checkout the images were built from, or undefined for release images. */
  getM3Source(): string | undefined {
    return this.options.m3Source;
  }

  /** Cluster id (label `org.m3agg.cluster` on every container). */
  getClusterId(): string {
    return this.options.clusterId;
  }

  /** Aggregator nodes now, in instance-id order (m3aggregator01 first); addNodes/removeNodes/replaceNode change it. */
  get nodes(): readonly StartedM3AggregatorNode[] {
    return this.nodeList;
  }

  /** @internal TopologyTarget: the node handles now. */
  currentNodes(): readonly StartedM3AggregatorNode[] {
    return this.nodeList;
  }

  /** @internal TopologyTarget: takes nodes started by a change into the handle. */
  adoptNodes(nodes: StartedM3AggregatorNode[]): void {
    // A node already found by syncNodes (election() during this change) gives way to the handle that started it.
    const incoming = new Set(nodes.map((n) => n.id));
    this.nodeList = [...this.nodeList.filter((n) => !incoming.has(n.id)), ...nodes].sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * Brings {@link nodes} up to date with the engine: takes in node containers another process
   * started (`m3agg scale` on this cluster, another handle's addNodes), drops nodes whose containers
   * are gone. Topology changes, `election()` and `waitForReady()` call it when the placement names
   * a node this handle lacks, so a change made elsewhere never leaves this handle stale.
   * Resolves with the ids taken in and dropped.
   */
  async syncNodes(): Promise<{ added: string[]; dropped: string[] }> {
    const containers = await containersWithLabel(LABEL_CLUSTER, this.getClusterId());
    // A stopped node (a failover test's node.stop()) is still the cluster's: only a removed container drops it.
    const plans = nodePlansOf(this.getClusterId(), containers);
    const known = new Set(this.nodeList.map((n) => n.id));
    const live = new Set(plans.map((p) => p.node.id));
    const found = await attachNodes(this.plan.host, plans.filter((p) => !known.has(p.node.id) && p.summary.state === "running"));
    const added = found.filter((n) => !this.nodeList.some((k) => k.id === n.id)); // a change may have adopted it meanwhile
    const dropped = this.nodeList.filter((n) => !live.has(n.id)).map((n) => n.id);
    this.dropNodes(dropped);
    this.adoptNodes(added);
    return { added: added.map((n) => n.id), dropped };
  }

  /** @internal TopologyTarget: the owner labels of the cluster (etcd's, set when the cluster started). */
  clusterOwner(): Record<string, string> {
    return clusterOwnerOf(this.etcd.getLabels());
  }

  /** Syncs the node list when the placement names an instance this handle has no node for. */
  private async nodesFor(placementIds: Iterable<string>): Promise<void> {
    const known = new Set(this.nodeList.map((n) => n.id));
    if ([...placementIds].some((id) => !known.has(id))) await this.syncNodes();
  }

  /** @internal TopologyTarget: drops nodes a change removed. */
  dropNodes(ids: string[]): void {
    this.nodeList = this.nodeList.filter((n) => !ids.includes(n.id));
  }

  /** @internal TopologyTarget: formatted log tails of these components. */
  logTailsOf(components: string[]): string {
    return this.logTails(components);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.changing.then(work, work);
    this.changing = next.catch(() => undefined);
    return next;
  }

  /**
   * Adds `count` nodes (default rf; a multiple of rf: whole shard sets) under load: starts them
   * (next ids, ports from the allocator, same config and TLS), adds them through the admin API, and
   * resolves once the change is complete (see README "Live topology"). A bad count throws an
   * InvalidOptionError before anything runs.
   */
  addNodes(count?: number, options: TopologyOptions = {}): Promise<{ nodes: StartedM3AggregatorNode[]; change: TopologyChange }> {
    return this.serial(() => addNodes(this, count, options));
  }

  /**
   * Removes whole shard sets (`ids` = every member of each): resolves once their shards are cut
   * off, their last windows flushed, and their containers removed. A partial shard set or an
   * unknown id throws an InvalidOptionError naming the set's members before any call.
   */
  removeNodes(ids: string[], options: TopologyOptions = {}): Promise<TopologyChange> {
    return this.serial(() => removeNodes(this, ids, options));
  }

  /** Replaces node `id` by a new node that takes its shard set; the old one is removed once cut off and flushed. */
  replaceNode(id: string, options: TopologyOptions = {}): Promise<{ node: StartedM3AggregatorNode; change: TopologyChange }> {
    return this.serial(() => replaceNode(this, id, options));
  }

  /**
   * The cluster id, like {@link getClusterId}.
   * @deprecated Use getClusterId(): on a container handle `getId()` is the Docker container id.
   */
  getId(): string {
    return this.getClusterId();
  }

  /** A node by 0-based index or instance id; throws naming the known ids otherwise. */
  node(which: number | string): StartedM3AggregatorNode {
    const node = typeof which === "number" ? this.nodes[which] : this.nodes.find((n) => n.id === which);
    if (node === undefined) {
      throw new Error(`no node ${JSON.stringify(which)} in cluster ${this.getClusterId()} (nodes: ${this.nodes.map((n, i) => `${i}=${n.id}`).join(", ")})`);
    }
    return node;
  }

  /** The dial map: on the loopback network every placement endpoint is dialled as it is. */
  dialAddress(endpoint: string): string {
    return endpoint;
  }

  /**
   * The in-process m3msg consumer receiving everything the leaders flush (backend "sink").
   * Throws for other backends, and for attached clusters (the sink lives in the process that started it).
   */
  getSink(): M3MsgSink {
    if (this.flushSink === undefined) {
      throw new Error(`cluster ${this.getClusterId()} has no sink: ${this.attached ? "it lives in the process that started the cluster" : `backend is "${this.options.backend}", start with backend: "sink"`}`);
    }
    return this.flushSink;
  }

  /** `http://<host>:<port>` of the coordinator admin API. */
  getCoordinatorAdminUrl(): string {
    return this.coordinator.getAdminUrl();
  }

  /** `http://<host>:<port>` of etcd. */
  getEtcdUrl(): string {
    return this.etcd.getClientUrl();
  }

  /** The live aggregator placement, read from the coordinator. */
  async placement(): Promise<Placement> {
    return (await this.admin.getPlacement("m3aggregator")).placement;
  }

  /** Shard sets of the live placement: shardSetId → instance ids. */
  async shardSets(): Promise<Map<number, string[]>> {
    return shardSetsOf(await this.placement());
  }

  /** Each node's HTTP API by instance id. */
  private get apis(): Map<string, StartedM3AggregatorNode["api"]> {
    return new Map(this.nodes.map((n) => [n.id, n.api]));
  }

  /** Election state of every shard set, from each node's /status. */
  async election(): Promise<ShardSetElection[]> {
    const shardSets = await this.shardSets();
    await this.nodesFor([...shardSets.values()].flat());
    return readElection(shardSets, this.apis);
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
    return sendRaw(target.getHost(), target.getTcpPort(), lines, 10_000, tlsOptions);
  }

  /** Every container of the cluster: etcd, coordinator, then the nodes. */
  private get components(): Array<{ component: string; logLines(): string[]; getId(): string }> {
    return [this.etcd, this.coordinator, ...this.nodes, ...(this.toxiproxy === undefined ? [] : [this.toxiproxy])];
  }

  private readonly faultLog: FaultLog | undefined;

  private requireFaults(method: string): { proxy: StartedToxiproxyContainer; log: FaultLog } {
    if (this.toxiproxy === undefined || this.faultLog === undefined) throw new FaultsDisabledError(method, this.getClusterId());
    return { proxy: this.toxiproxy, log: this.faultLog };
  }

  /** Every fault applied so far (`faults: true`), oldest first, each with its time. */
  getFaultLog(): FaultRecord[] {
    return this.requireFaults("cluster.getFaultLog()").log.list();
  }

  /**
   * Cuts every link of a node (`faults: true`): to etcd, from clients and peers, to the sink.
   * The node keeps running, alone. {@link healAll} or `node.network.heal()` ends it.
   */
  async isolate(which: number | string): Promise<FaultRecord> {
    const { log } = this.requireFaults("cluster.isolate()");
    const node = this.node(which);
    await node.network.cut("all");
    return log.add({ target: node.id, action: "isolate", links: ["etcd", "ingest", "flush"] });
  }

  /** Removes every fault from every link (`faults: true`); held bytes are delivered. */
  async healAll(): Promise<FaultRecord> {
    const { proxy, log } = this.requireFaults("cluster.healAll()");
    await proxy.client.resetAll();
    return log.add({ target: "cluster", action: "heal-all", links: ["all"] });
  }

  private logTails(components: string[]): string {
    return this.components.filter((c) => components.includes(c.component))
      .map((c) => formatLogTail(c.component, c.logLines())).join("\n");
  }

  /**
   * Waits until shard set `shardSetId` has exactly one leader (other than `not`, when given)
   * and resolves with its instance id. On timeout the error shows every member's state and logs.
   */
  async waitForLeader(shardSetId: number, options: { not?: string; timeoutMs?: number } = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    let last: ShardSetElection | undefined;
    return poll(async () => {
      last = (await this.election()).find((s) => s.shardSetId === shardSetId);
      if (last === undefined) throw new Error(`cluster ${this.getClusterId()} has no shard set ${shardSetId}`);
      return last.leader !== undefined && last.leader !== options.not ? last.leader : undefined;
    }, {
      timeoutMs, what: `a leader of shard set ${shardSetId}`,
      onTimeout: () => new Error(`shard set ${shardSetId} of cluster ${this.getClusterId()} has no leader${options.not ? ` other than ${options.not}` : ""} after ${timeoutMs} ms:\n` +
        `${describeElection(last === undefined ? [] : [last])}\n${this.logTails(last?.members.map((m) => m.id) ?? [])}`),
    });
  }

  /**
   * Waits until the cluster is ready again, by start()'s definition: every shard set has one
   * leader and only verified followers besides it (a node that does not answer is not ready).
   */
  async waitForReady(options: { timeoutMs?: number } = {}): Promise<ShardSetElection[]> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    try {
      const shardSets = await this.shardSets();
      await this.nodesFor([...shardSets.values()].flat());
      return await waitForElection(shardSets, this.apis, timeoutMs);
    } catch (error) {
      throw new Error(`cluster ${this.getClusterId()} not ready: ${(error as Error).message}\n${this.logTails(this.nodes.map((n) => n.id))}`, { cause: error });
    }
  }

  /**
   * What a container printed so far, oldest first (captured by this process since it started or
   * attached): "etcd", "m3coordinator" (or "coordinator"), a node id, or "toxiproxy" (`faults: true`).
   * Throws naming the known components for any other name.
   */
  async logs(component: string): Promise<string[]> {
    const name = component === "coordinator" ? "m3coordinator" : component;
    const found = this.components.find((c) => c.component === name);
    if (found === undefined) throw new Error(`no component ${JSON.stringify(component)} in cluster ${this.getClusterId()} (components: ${this.components.map((c) => c.component).join(", ")})`);
    return found.logLines();
  }

  /**
   * Writes each container's captured output to `<dir>/<clusterId>/<component>.log`
   * (default dir: `.m3agg/logs` under the working directory). Returns the cluster's folder.
   */
  writeLogs(dir = path.join(process.cwd(), ".m3agg", "logs")): string {
    const folder = path.join(dir, this.getClusterId());
    fs.mkdirSync(folder, { recursive: true });
    for (const c of this.components) fs.writeFileSync(path.join(folder, `${c.component}.log`), `${c.logLines().join("\n")}\n`);
    return folder;
  }

  /**
   * Puts the cluster back into the state start() left it in, for a cluster shared between tests:
   * heals every fault (`faults: true`: the Toxiproxy container running again, then `healAll()`), runs
   * the registered reset steps (`registerResetStep`), brings
   * every paused, stopped or killed container back, empties the sink (when this process has it)
   * and waits for one leader and verified followers per shard set. Rejects with a
   * `ResetError` naming the step that failed. Placement changes made by a test are not undone.
   */
  async reset(options: ResetOptions = {}): Promise<ResetReport> {
    const sink = this.flushSink;
    const proxy = this.toxiproxy;
    return resetCluster(this, {
      containers: [this.etcd, this.coordinator, ...this.nodes],
      faults: proxy === undefined ? undefined : { proxy, heal: () => this.healAll() },
      clearSink: sink === undefined ? undefined : () => {
        const dropped = sink.datapoints().length;
        sink.clear();
        return dropped;
      },
      waitForReady: (timeoutMs) => this.waitForReady({ timeoutMs }),
    }, options);
  }

  /**
   * Streams the output of every container (or of `components`: "etcd", "m3coordinator" (or
   * "coordinator"), node ids) line by line to `onLine`, live, like `docker compose logs -f`;
   * a container that is stopped and started again is followed again. Each line comes raw and
   * rendered (`time level msg key=value` for m3's and etcd's JSON lines). `stop()` ends it.
   * `follow: false` delivers what there is and ends (`done` resolves).
   *
   * @example
   * const logs = await cluster.followLogs({ onLine: (l) => console.log(`${l.component} | ${l.text}`) });
   * // … the test …
   * await logs.stop();
   */
  async followLogs(options: FollowLogsOptions & { components?: string[] }): Promise<LogFollower> {
    const all = this.components;
    const wanted = options.components === undefined ? all
      : all.filter((c) => options.components!.some((name) => name === c.component || (name === "coordinator" && c.component === "m3coordinator")));
    const unknown = (options.components ?? []).filter((name) => !all.some((c) => c.component === name || (name === "coordinator" && c.component === "m3coordinator")));
    if (unknown.length > 0) throw new Error(`no container ${unknown.map((u) => JSON.stringify(u)).join(", ")} in cluster ${this.getClusterId()} (containers: ${all.map((c) => c.component).join(", ")})`);
    return followContainerLogs(wanted.map((c) => ({ component: c.component, id: c.getId() })), options);
  }

  /** Milliseconds the last stop() took (undefined before). */
  getStopTimeMs(): number | undefined {
    return this.stoppedInMs;
  }

  /**
   * Removes every container of the cluster, then its port reservations and cluster folder.
   * Idempotent: later calls wait for the first. When the teardown fails (it rejects with a
   * TeardownError saying what was removed and what is left), a later call tries again.
   * A reuse-mode cluster is left running (this handle is just dropped) unless `remove: true`.
   */
  stop(options: { remove?: boolean } = {}): Promise<void> {
    if (this.options.reuseKey !== undefined && options.remove !== true) return Promise.resolve();
    this.stopping ??= (async () => {
      const t0 = Date.now();
      await this.flushSink?.stop();
      await teardown(this.getClusterId());
      this.stoppedInMs = Date.now() - t0;
      unregisterLiveCluster(this.getClusterId());
      if (!this.attached) releaseClusterId(this.getClusterId()); // the id is free for another start
    })().catch((error: unknown) => {
      this.stopping = undefined; // not stopped: the next stop() tries again
      throw error;
    });
    return this.stopping;
  }

  /**
   * `await using cluster = await M3AggregatorCluster.start(…)`: stop() when the scope ends,
   * also when it ends by a throw. Like stop(), leaves a reuse-mode cluster running.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
