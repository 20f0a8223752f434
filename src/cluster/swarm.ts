/**
 * Starting a cluster on Docker Swarm (target `{ swarm: { engines } }`): the plan of the named
 * network model, rendered by {@link renderSwarmStack}, deployed with `docker stack deploy` on the
 * first engine (a manager). Without a registry the images are copied onto every engine that lacks
 * them (`docker save | docker load`). The stack is deployed in two steps: etcd and the coordinator,
 * then (once the placement exists, created through the coordinator's published port) the whole stack
 * file, which adds the aggregators, as on one engine where they start after the placement. Start
 * resolves once every shard set has one leader and verified followers.
 *
 * The placement's endpoints are DNS names of the stack's overlay network; this process reaches a
 * node through the dial map (placement endpoint → the engine's address and the node's published
 * port, or, for engines in network namespaces of this machine, a 127.0.0.1 port of a relay).
 */
import type { ClusterNode, StartedCluster } from "./handle";
import { ElectionHandle } from "./election-handle";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type ClusterPlan, decodePlanLabel, planCluster } from "../plan/plan";
import { createPlacement } from "../m3/create-placement";
import { namedPortPlan } from "../plan/network";
import type { ResolvedClusterOptions } from "../model/options";
import { waitForElection } from "./readiness";
import { resolveImages } from "../docker/images";
import { LABEL_CLUSTER, LABEL_PLAN } from "../model/labels";
import { parsePrometheusText, PrometheusMetrics } from "../m3/prometheus";
import { HttpError, httpRequest } from "../util/http";
import { AggregatorApi } from "../m3/aggregator-api";
import { M3AdminClient } from "../m3/admin-client";
import { shardSetsOf } from "../m3/placement";
import { registerSink } from "../m3/sink-registration";
import { SINK_TOPIC } from "../m3/config-render";
import type { M3Version } from "../model/versions";
import { M3MsgSink } from "../sink/sink";
import { clusterTlsHandle, type ClusterTls, createTlsMaterial } from "../tls/material";
import { clusterTlsDirOf, createClusterDir, removeClusterDir } from "../lifecycle/cluster-dir";
import { poll } from "../util/poll";
import { RelayDialer, SinkRelay } from "./engine-relay";
import { PUBLISHED_BASE, publishedNodePorts, renderSwarmStack, SINK_RELAY, STACK_NETWORK, swarmStackYaml } from "../targets/swarm";
import type { TlsFiles } from "../targets/workloads";

/** Runs the docker CLI against one engine; rejects with its stderr. `input`: piped to its stdin. */
export function dockerOn(host: string, args: string[], input?: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["-H", host, ...args], { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr?.on("data", (d: Buffer) => { err += d.toString(); });
    if (input !== undefined && child.stdin !== null) input.pipe(child.stdin);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`docker -H ${host} ${args.join(" ")} exited ${code}: ${err.trim().split("\n").slice(-5).join(" | ")}`))));
  });
}

/** Runs the docker CLI against one engine and resolves with stdout and stderr as one text, in arrival order (logs). */
function dockerOutputOn(host: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["-H", host, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.stderr.on("data", (d: Buffer) => chunks.push(d));
    child.on("error", reject);
    child.on("close", (code) => {
      const text = Buffer.concat(chunks).toString();
      if (code === 0) resolve(text);
      else reject(new Error(`docker -H ${host} ${args.join(" ")} exited ${code}: ${text.trim().split("\n").slice(-5).join(" | ")}`));
    });
  });
}

/**
 * Copies the images an engine lacks from the default engine (no registry): docker save | docker load.
 * Resolves with the images it copied (none when the engine has them all).
 */
async function loadImages(engine: string, images: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const image of images) {
    try {
      await dockerOn(engine, ["image", "inspect", "-f", "{{.Id}}", image]);
    } catch {
      missing.push(image);
    }
  }
  if (missing.length === 0) return [];
  const save = spawn("docker", ["save", ...missing], { stdio: ["ignore", "pipe", "inherit"] });
  await dockerOn(engine, ["load", "-q"], save.stdout);
  return missing;
}

/** Where each engine is: its swarm node id and address. */
interface Engine {
  host: string;
  nodeId: string;
  address: string;
  relay: RelayDialer | undefined;
}

/** One aggregator node of a swarm cluster, as this process reaches it. */
export class SwarmNode implements ClusterNode {
  readonly api: AggregatorApi;
  constructor(
    /** Instance id = service name = host id. */
    readonly id: string,
    /** Index of the engine its task runs on. */
    readonly engine: number,
    private readonly placementEndpoint: string,
    private readonly dialTcp: string,
    private readonly httpUrl: string,
    private readonly metricsUrl: string,
  ) {
    this.api = new AggregatorApi(httpUrl);
  }

  /** The node's endpoint in the placement: a DNS name of the overlay network. */
  getTcpEndpoint(): string {
    return this.placementEndpoint;
  }

  /** `host:port` where this process reaches the node's raw TCP port. */
  getDialAddress(): string {
    return this.dialTcp;
  }

  getHttpUrl(): string {
    return this.httpUrl;
  }

  /** `http://host:port/metrics` of the node's Prometheus endpoint, as this process reaches it. */
  getMetricsUrl(): string {
    return this.metricsUrl;
  }

  /** The node's own Prometheus metrics (what runLoad reads of each node). */
  async metrics(timeoutMs = 10_000): Promise<PrometheusMetrics> {
    const response = await httpRequest("GET", this.metricsUrl, { timeoutMs });
    if (response.status !== 200) throw new HttpError("GET", this.metricsUrl, response.status, response.text);
    return new PrometheusMetrics(parsePrometheusText(response.text));
  }

  status(): ReturnType<AggregatorApi["status"]> {
    return this.api.status();
  }

  resign(timeoutMs?: number): Promise<void> {
    return this.api.resign(timeoutMs);
  }
}

/**
 * Where a swarm start spent its time, in ms. `applyToReadyMs`: from `docker stack deploy` to a settled
 * election (the sum of the phases from `deployMs` on); `total`: the whole start.
 */
export interface SwarmStartupTimings {
  applyToReadyMs: number;
  total: number;
  /** Engine checks, image checks (and copies), plan, TLS material, stack files, before the deploy. */
  prepareMs: number;
  /** `docker stack deploy` of etcd and the coordinator returning. */
  deployMs: number;
  /** Until their tasks run (Swarm scheduling, container start). */
  tasksMs: number;
  /** Until the coordinator answers /health through its published port. */
  coordinatorMs: number;
  /** The sink's topic and the placement created. */
  placementMs: number;
  /** The aggregators' services deployed (the whole stack file) until each one's task runs. */
  nodesMs: number;
  /** Until one leader and verified followers per shard set. */
  electionMs: number;
}

const NO_TIMINGS: SwarmStartupTimings = { applyToReadyMs: 0, total: 0, prepareMs: 0, deployMs: 0, tasksMs: 0, coordinatorMs: 0, placementMs: 0, nodesMs: 0, electionMs: 0 };

/** What of a stack this process reaches: the nodes (engine, dial address, HTTP URL) and the coordinator. */
interface Reached {
  nodes: SwarmNode[];
  adminUrl: string;
}

/** A running swarm cluster: the node APIs, leaders, the sink, the dial map, logs and stop(). */
export class StartedSwarmCluster extends ElectionHandle implements StartedCluster {
  readonly admin: M3AdminClient;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly plan: ClusterPlan,
    private readonly engines: Engine[],
    readonly nodes: readonly SwarmNode[],
    adminUrl: string,
    /** Where the start spent its time, in ms (zeros when attached). */
    readonly startupTimings: Readonly<SwarmStartupTimings>,
    readonly tls: ClusterTls | undefined,
    private readonly sink: M3MsgSink | undefined,
    private readonly sinkRelay: SinkRelay | undefined,
    private readonly stackDir: string | undefined,
    /**
     * The images the start copied onto each engine (Docker host → image names; empty lists when every
     * engine had them all, e.g. on a second start). Empty when attached.
     */
    readonly loadedImages: Readonly<Record<string, readonly string[]>>,
    /** True when this handle attached to a stack another process deployed ({@link attachSwarmCluster}). */
    readonly attached: boolean,
  ) {
    super();
    this.admin = new M3AdminClient(adminUrl);
  }

  getClusterId(): string {
    return this.plan.clusterId;
  }

  /** The cluster id, like {@link getClusterId}. */
  getId(): string {
    return this.getClusterId();
  }

  getM3Version(): M3Version {
    return this.plan.version;
  }

  /** The Docker hosts of the swarm's engines, in the order given. */
  getEngines(): string[] {
    return this.engines.map((e) => e.host);
  }

  /** `http://host:port` of the coordinator's admin API, as this process reaches it. */
  getCoordinatorAdminUrl(): string {
    return this.admin.baseUrl;
  }

  /** A node by 0-based index or instance id; throws naming the known ids otherwise. */
  node(which: number | string): SwarmNode {
    const node = typeof which === "number" ? this.nodes[which] : this.nodes.find((n) => n.id === which);
    if (node === undefined) throw new Error(`no node ${JSON.stringify(which)} in cluster ${this.getId()} (nodes: ${this.nodes.map((n, i) => `${i}=${n.id}`).join(", ")})`);
    return node;
  }

  /** The dial map: where this process reaches a placement endpoint (unknown endpoints as they are). */
  dialAddress(endpoint: string): string {
    return this.nodes.find((n) => n.getTcpEndpoint() === endpoint)?.getDialAddress() ?? endpoint;
  }

  getSink(): M3MsgSink {
    if (this.sink === undefined) {
      throw new Error(this.attached
        ? `cluster ${this.getId()} has no sink in this process: it was attached to, and the sink lives in the process that started it`
        : `cluster ${this.getId()} has no sink: backend is "${this.plan.inputs.options.backend}", start with backend: "sink"`);
    }
    return this.sink;
  }

  /** The components whose logs {@link logs} reads: "etcd", "m3coordinator", then the node ids. */
  components(): string[] {
    return ["etcd", "m3coordinator", ...this.nodes.map((n) => n.id)];
  }

  /**
   * What a component's tasks printed, oldest first, stdout and stderr (`docker service logs --raw`
   * on the manager: every task of the service, on whichever engine it ran, also a killed one).
   * `component`: "etcd", "m3coordinator" (or "coordinator"), or a node id. Throws naming the known
   * components for any other name.
   */
  async logs(component: string): Promise<string[]> {
    const name = component === "coordinator" ? "m3coordinator" : component;
    if (!this.components().includes(name)) throw new Error(`no component ${JSON.stringify(component)} in cluster ${this.getId()} (components: ${this.components().join(", ")})`);
    const manager = this.engines[0] as Engine;
    const text = await dockerOutputOn(manager.host, ["service", "logs", "--raw", "--no-trunc", `${this.getId()}_${name}`]);
    return text.split("\n").filter((line) => line !== "");
  }

  /**
   * Writes each component's logs ({@link logs}) to `<dir>/<clusterId>/<component>.log` (default dir:
   * `.m3agg/logs` under the working directory). Resolves with the cluster's folder.
   */
  async writeLogs(dir = path.join(process.cwd(), ".m3agg", "logs")): Promise<string> {
    const folder = path.join(dir, this.getId());
    fs.mkdirSync(folder, { recursive: true });
    for (const component of this.components()) fs.writeFileSync(path.join(folder, `${component}.log`), `${(await this.logs(component)).join("\n")}\n`);
    return folder;
  }

  /** Kills the container of a node's task on its engine (`docker kill`); Swarm then starts a new task there. */
  async killNode(which: number | string): Promise<void> {
    const node = this.node(which);
    const engine = this.engines[node.engine] as Engine;
    const ids = (await dockerOn(engine.host, ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${this.getId()}_${node.id}`])).trim().split("\n").filter(Boolean);
    if (ids.length === 0) throw new Error(`node ${node.id} has no running container on engine ${engine.host}`);
    await dockerOn(engine.host, ["kill", ...ids]);
  }

  /** What of the cluster is left on each engine: containers, services, networks, configs (empty after stop()). */
  async leftovers(): Promise<string[]> {
    return stackLeftovers(this.getId(), this.getEngines());
  }

  /**
   * Lets the stack run on and frees what this process holds for it (the relays' listeners, the sink):
   * `m3agg up --target swarm --detach` ends with it; `m3agg down` (or {@link removeSwarmStack}) removes the stack.
   */
  async release(): Promise<void> {
    await this.sink?.stop();
    await this.sinkRelay?.close();
    await Promise.all(this.engines.map((e) => e.relay?.close()));
    if (this.stackDir !== undefined) fs.rmSync(this.stackDir, { recursive: true, force: true });
  }

  /** Removes the stack and waits until nothing of it is left on any engine. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= removeStack(this.getId(), this.engines, this.stackDir, async () => {
      await this.sink?.stop();
      await this.sinkRelay?.close();
    }).then(() => undefined);
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** What of stack `id` is left on the engines (`hosts`, the manager first): containers, networks, services, configs. */
export async function stackLeftovers(id: string, hosts: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const host of hosts) {
    const containers = (await dockerOn(host, ["ps", "-aq", "--filter", `label=${LABEL_CLUSTER}=${id}`])).trim();
    if (containers !== "") found.push(`${host}: containers ${containers.split("\n").join(" ")}`);
    const networks = (await dockerOn(host, ["network", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${id}`])).trim();
    if (networks !== "") found.push(`${host}: networks ${networks.split("\n").join(" ")}`);
  }
  const manager = hosts[0] as string;
  const services = (await dockerOn(manager, ["service", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${id}`])).trim();
  if (services !== "") found.push(`services ${services.split("\n").join(" ")}`);
  const configs = (await dockerOn(manager, ["config", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${id}`])).trim();
  if (configs !== "") found.push(`configs ${configs.split("\n").join(" ")}`);
  return found;
}

/**
 * `docker stack rm`, then SIGKILL to the stack's containers on every engine (a fixture's teardown, like
 * the one-engine stop: Swarm would give each task its 10 s grace period), then waits for every engine
 * to have no container and no network of the stack left.
 */
async function removeStack(id: string, engines: Array<Pick<Engine, "host" | "relay">>, stackDir: string | undefined, also: () => Promise<void>): Promise<void> {
  const manager = engines[0] as Engine;
  try {
    await dockerOn(manager.host, ["stack", "rm", id]);
    await Promise.all(engines.map(async (e) => {
      const ids = (await dockerOn(e.host, ["ps", "-q", "--filter", `label=com.docker.stack.namespace=${id}`]).catch(() => "")).trim().split("\n").filter(Boolean);
      // A container that exits meanwhile makes kill fail: the wait below is the check.
      if (ids.length > 0) await dockerOn(e.host, ["kill", ...ids]).catch(() => undefined);
    }));
    await poll(async () => {
      for (const e of engines) {
        if ((await dockerOn(e.host, ["ps", "-aq", "--filter", `label=com.docker.stack.namespace=${id}`])).trim() !== "") return undefined;
        if ((await dockerOn(e.host, ["network", "ls", "-q", "--filter", `label=com.docker.stack.namespace=${id}`])).trim() !== "") return undefined;
      }
      return true;
    }, { timeoutMs: 60_000, intervalMs: 250, what: `stack ${id} removed from every engine` });
  } finally {
    await also();
    await Promise.all(engines.map((e) => e.relay?.close()));
    if (stackDir !== undefined) fs.rmSync(stackDir, { recursive: true, force: true });
    removeClusterDir(id);
  }
}

/**
 * Removes the stack of cluster `clusterId` from the swarm of `engines` (Docker hosts, the manager
 * first) and waits until no container and no network of it is left on any engine; also its cluster
 * folder on this machine. What `m3agg down` does for a swarm cluster. A stack that is not there is no error.
 */
export async function removeSwarmStack(clusterId: string, engines: string[]): Promise<void> {
  if (engines.length === 0) throw new Error(`removing stack ${clusterId}: no engine given (the swarm's Docker hosts, the manager first)`);
  await removeStack(clusterId, engines.map((host) => ({ host, relay: undefined })), undefined, async () => undefined);
}

/** The fixture clusters deployed on the swarm whose manager is `manager` (their stacks' networks carry the cluster label). */
export async function swarmClusters(manager: string): Promise<string[]> {
  const out = await dockerOn(manager, ["network", "ls", "--filter", `label=${LABEL_CLUSTER}`, "--format", `{{.Label "${LABEL_CLUSTER}"}}`]);
  return [...new Set(out.trim().split("\n").filter(Boolean))].sort();
}

/** Task placement of each service of the stack: service name → swarm node id (once every task runs). */
async function runningTasks(manager: string, id: string, services: string[], timeoutMs: number): Promise<Map<string, string>> {
  return poll(async () => {
    const where = new Map<string, string>();
    for (const service of services) {
      const lines = (await dockerOn(manager, ["service", "ps", `${id}_${service}`, "--filter", "desired-state=running", "--no-trunc", "--format", "{{.CurrentState}}|{{.Node}}|{{.ID}}"])).trim().split("\n").filter(Boolean);
      const running = lines.find((l) => l.startsWith("Running"));
      if (running === undefined) return undefined;
      const taskId = running.split("|")[2] as string;
      where.set(service, (await dockerOn(manager, ["inspect", "-f", "{{.NodeID}}", taskId])).trim());
    }
    return where;
  }, { timeoutMs, intervalMs: 250, what: `every task of stack ${id} running` });
}

/** Each engine's swarm node id and address (asked from the engine, then from the manager). */
async function describeEngines(hosts: string[], relays: string[] | undefined): Promise<Engine[]> {
  return Promise.all(hosts.map(async (host, i) => {
    const nodeId = (await dockerOn(host, ["info", "-f", "{{.Swarm.NodeID}}"])).trim();
    if (nodeId === "") throw new Error(`engine ${host} is not part of a swarm (docker swarm init / join)`);
    const address = (await dockerOn(hosts[0] as string, ["node", "inspect", "-f", "{{.Status.Addr}}", nodeId])).trim();
    return { host, nodeId, address, relay: relays === undefined ? undefined : new RelayDialer(relays[i] as string) };
  }));
}

/** Once `services` run, `reach(service, port)`: where this process reaches a published port of one of them. */
async function reachServices(plan: ClusterPlan, engines: Engine[], services: string[], timeoutMs: number): Promise<{ engineOf(service: string): number; reach(service: string, port: number): Promise<string> }> {
  const where = await runningTasks(engines[0]?.host as string, plan.clusterId, services, timeoutMs);
  const engineOf = (service: string): number => {
    const index = engines.findIndex((e) => e.nodeId === where.get(service));
    if (index < 0) throw new Error(`service ${service} runs on swarm node ${where.get(service)}, which is none of the engines given (${engines.map((e) => e.host).join(", ")})`);
    return index;
  };
  const reach = async (service: string, port: number): Promise<string> => {
    const e = engines[engineOf(service)] as Engine;
    return e.relay === undefined ? `${e.address}:${port}` : `127.0.0.1:${await e.relay.expose(port)}`;
  };
  return { engineOf, reach };
}

/** Once etcd and the coordinator run: the coordinator's admin URL as this process reaches it. */
async function reachCoordinator(plan: ClusterPlan, engines: Engine[], timeoutMs: number): Promise<string> {
  const { reach } = await reachServices(plan, engines, ["etcd", "m3coordinator"], timeoutMs);
  return `http://${await reach("m3coordinator", PUBLISHED_BASE.coordinator)}`;
}

/** Once every aggregator's task runs: the nodes, each with its engine and the addresses this process reaches it at. */
async function reachNodes(plan: ClusterPlan, engines: Engine[], timeoutMs: number): Promise<SwarmNode[]> {
  const { engineOf, reach } = await reachServices(plan, engines, plan.nodes.map((n) => n.id), timeoutMs);
  return Promise.all(plan.nodes.map(async (n, i) => {
    const pub = publishedNodePorts(i);
    return new SwarmNode(n.id, engineOf(n.id), n.tcpEndpoint, await reach(n.id, pub.tcp), `http://${await reach(n.id, pub.http)}`, `http://${await reach(n.id, pub.metrics)}/metrics`);
  }));
}

/** Where the stack's tasks run, and the addresses this process reaches the coordinator and each node at. */
async function reachStack(plan: ClusterPlan, engines: Engine[], timeoutMs: number): Promise<Reached> {
  const adminUrl = await reachCoordinator(plan, engines, timeoutMs);
  return { nodes: await reachNodes(plan, engines, timeoutMs), adminUrl };
}

/** The TLS handle of a named-model plan: this process dials 127.0.0.1 or an engine address, the certificate names the service. */
function swarmTlsHandle(plan: ClusterPlan): ClusterTls | undefined {
  const settings = plan.inputs.options.tls;
  if (settings === undefined || plan.names === undefined) return undefined;
  const handle = clusterTlsHandle(clusterTlsDirOf(plan.clusterId), settings, plan.names.hosts.tlsServerName);
  return { ...handle, clientOptions: () => ({ ...handle.clientOptions(), servername: handle.serverName }) };
}

/**
 * Starts a cluster on the swarm of `options.target` (see the module comment). On any failure the
 * stack is removed from every engine before the error is thrown.
 */
export async function startSwarmCluster(options: ResolvedClusterOptions): Promise<StartedSwarmCluster> {
  const t0 = Date.now();
  const target = options.target;
  if (target.kind !== "swarm") throw new Error(`startSwarmCluster needs target swarm, got ${target.kind}`);
  const hosts = target.engines.length > 0 ? target.engines : [process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock"];
  const id = options.clusterId;
  const stackDir = fs.mkdtempSync(path.join(os.tmpdir(), `m3agg-stack-${id}-`));
  let engines: Engine[] = hosts.map((host, i) => ({ host, nodeId: "", address: "", relay: target.relays === undefined ? undefined : new RelayDialer(target.relays.engines[i] as string) }));
  let sink: M3MsgSink | undefined;
  let sinkRelay: SinkRelay | undefined;
  const deadline = t0 + options.startTimeoutMs;
  const remaining = () => Math.max(1_000, deadline - Date.now());
  let deployed = false;
  try {
    if (options.backend === "sink" && target.relays === undefined) {
      throw new Error(`backend "sink" on swarm needs the engines' relays (target.swarm.relays, from scripts/swarm-engines.sh): the containers reach this process's sink through them`);
    }
    await Promise.all(engines.map((e) => e.relay?.close()));
    engines = await describeEngines(hosts, target.relays?.engines);
    const resolved = await resolveImages(options);
    const images = { m3aggregator: resolved.m3aggregator, m3coordinator: resolved.m3coordinator, etcd: resolved.etcd };
    const loadedImages: Record<string, string[]> = {};
    for (const e of engines) loadedImages[e.host] = await loadImages(e.host, Object.values(images).map((i) => i.image));
    const plan = planCluster({ options, ports: namedPortPlan(options.nodes), images });
    if (plan.names === undefined) throw new Error("a swarm plan is of the named model");
    let tlsFiles: TlsFiles | undefined;
    if (options.tls !== undefined) {
      createClusterDir(id);
      const dir = clusterTlsDirOf(id);
      await createTlsMaterial(dir, id, plan.names.hosts.tlsServerName);
      const file = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");
      tlsFiles = { ca: file("ca.pem"), serverCert: file("server.pem"), serverKey: file("server-key.pem"), clientCert: file("client.pem"), clientKey: file("client-key.pem") };
    }
    const tls = swarmTlsHandle(plan);
    const stack = renderSwarmStack(plan, tlsFiles);
    fs.writeFileSync(path.join(stackDir, "docker-stack.yml"), swarmStackYaml(stack));
    // First etcd and the coordinator only (the same stack, its configs and network): an aggregator
    // that starts before its placement exists sees it only at m3's next etcd watch check, seconds later.
    const services = stack.compose.services as Record<string, unknown>;
    const base = { ...stack, compose: { ...stack.compose, services: { etcd: services.etcd, m3coordinator: services.m3coordinator } } };
    fs.writeFileSync(path.join(stackDir, "docker-stack.base.yml"), swarmStackYaml(base));
    for (const [name, content] of Object.entries(stack.files)) fs.writeFileSync(path.join(stackDir, name), content, { mode: 0o600 });
    if (options.backend === "sink" && target.relays !== undefined) {
      sink = await M3MsgSink.start({ host: "127.0.0.1" });
      sinkRelay = await SinkRelay.start(target.relays.sink, sink.port);
    }

    const applied = Date.now();
    let mark = applied;
    const lap = (): number => {
      const now = Date.now();
      const ms = now - mark;
      mark = now;
      return ms;
    };
    deployed = true;
    const deploy = (file: string) => dockerOn(hosts[0] as string, ["stack", "deploy", "--resolve-image", "never", "-c", path.join(stackDir, file), id]);
    await deploy("docker-stack.base.yml");
    const deployMs = lap();
    const adminUrl = await reachCoordinator(plan, engines, remaining());
    const tasksMs = lap();
    const admin = new M3AdminClient(adminUrl);
    await poll(async () => ((await admin.isHealthy()) ? true : undefined), { timeoutMs: remaining(), what: "the coordinator's /health" });
    const coordinatorMs = lap();
    // The flush topic first: an aggregator that reads its placement before the topic exists exits.
    if (sink !== undefined) await registerSink(admin, SINK_TOPIC, `${SINK_RELAY.host}:${SINK_RELAY.port}`, SINK_RELAY.port);
    const placement = await createPlacement(admin, plan.placement);
    const placementMs = lap();
    await deploy("docker-stack.yml");
    const nodes = await reachNodes(plan, engines, remaining());
    const nodesMs = lap();
    await waitForElection(shardSetsOf(placement), new Map(nodes.map((n) => [n.id, n.api])), remaining());
    const electionMs = lap();
    const timings: SwarmStartupTimings = {
      applyToReadyMs: mark - applied, total: mark - t0, prepareMs: applied - t0, deployMs, tasksMs, coordinatorMs, placementMs, nodesMs, electionMs,
    };
    return new StartedSwarmCluster(plan, engines, nodes, adminUrl, timings, tls, sink, sinkRelay, stackDir, loadedImages, false);
  } catch (error) {
    const cleanUp = async () => {
      await sink?.stop();
      await sinkRelay?.close();
    };
    if (deployed) await removeStack(id, engines, stackDir, cleanUp).catch(() => undefined);
    else {
      // Nothing was deployed: no engine is touched again.
      await cleanUp();
      await Promise.all(engines.map((e) => e.relay?.close()));
      fs.rmSync(stackDir, { recursive: true, force: true });
      removeClusterDir(id);
    }
    throw new Error(`cluster ${id} on swarm (${hosts.join(", ")}) failed to start: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A handle on cluster `clusterId` that another process deployed on the swarm of `engines` (Docker
 * hosts, the manager first; `relays`: as for the start, for engines in network namespaces). The plan
 * is read back from the label of the stack's network; the handle reaches the nodes like the start's,
 * has no sink (it lives in the starting process) and `stop()` removes the stack. Rejects naming the
 * clusters the swarm runs when there is no such stack.
 */
export async function attachSwarmCluster(clusterId: string, target: { engines: string[]; relays?: string[] | undefined }, timeoutMs = 30_000): Promise<StartedSwarmCluster> {
  const hosts = target.engines;
  if (hosts.length === 0) throw new Error(`attaching to cluster ${clusterId} on swarm: no engine given (the swarm's Docker hosts, the manager first)`);
  const manager = hosts[0] as string;
  const network = `${clusterId}_${STACK_NETWORK}`;
  let label: string;
  try {
    label = (await dockerOn(manager, ["network", "inspect", "-f", `{{index .Labels "${LABEL_PLAN}"}}`, network])).trim();
  } catch (error) {
    const known = await swarmClusters(manager).catch(() => [] as string[]);
    throw new Error(`cluster ${clusterId} is not deployed on the swarm of ${manager} (clusters there: ${known.join(", ") || "none"}): ${(error as Error).message}`, { cause: error });
  }
  const plan = planCluster(decodePlanLabel(label));
  const engines = await describeEngines(hosts, target.relays);
  try {
    const { nodes, adminUrl } = await reachStack(plan, engines, timeoutMs);
    const tls = plan.inputs.options.tls !== undefined && fs.existsSync(path.join(clusterTlsDirOf(clusterId), "client.pem")) ? swarmTlsHandle(plan) : undefined;
    return new StartedSwarmCluster(plan, engines, nodes, adminUrl, NO_TIMINGS, tls, undefined, undefined, undefined, {}, true);
  } catch (error) {
    await Promise.all(engines.map((e) => e.relay?.close()));
    throw new Error(`attaching to cluster ${clusterId} on swarm (${hosts.join(", ")}): ${(error as Error).message}`, { cause: error });
  }
}
