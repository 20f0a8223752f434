/**
 * Starting a cluster on Kubernetes (target `{ kubernetes: { kubeconfig?, context?, registry } }`):
 * the plan of the named network model, rendered by {@link renderKubernetes} and applied with
 * server-side apply into a namespace named after the cluster id, labelled with its owner process
 * (the orphan sweep deletes it once that process is gone). The placement is created through the
 * API server's service proxy (no port-forward), and start resolves once every shard set has one
 * leader and verified followers, read from each pod's HTTP API through the pod proxy, as on one engine.
 *
 * Phases, each bounded by the start's deadline (`startTimeoutMs`), each error naming the phase and
 * the pods (phase, conditions, events): connect, sweep, apply, pods (every pod scheduled, etcd and
 * the coordinator Ready), placement (the coordinator answers, the placement is created), election
 * (the aggregator pods Ready, the election settled). On any failure the namespace is deleted and
 * the start waits until it is gone before it throws.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ClusterNode, StartedCluster } from "./handle";
import { ElectionHandle } from "./election-handle";
import type { ClusterPlan } from "../plan/plan";
import type { ResolvedClusterOptions } from "../model/options";
import type { M3Version } from "../model/versions";
import type { M3MsgSink } from "../sink/sink";
import { AggregatorApi } from "../m3/aggregator-api";
import { M3AdminClient } from "../m3/admin-client";
import { createPlacement } from "../m3/create-placement";
import { shardSetsOf } from "../m3/placement";
import { SERVICE_NAMES } from "../model/network";
import { registerLiveCluster, unregisterLiveCluster } from "../lifecycle/live";
import { poll } from "../util/poll";
import { KubeApi, namespaced } from "../kube/api";
import { KubeDialRelay, KubeProxyRelay } from "../kube/relays";
import { deleteClusterNamespace, describePods, listPods, namespaceLabels, type PodObject, NAMESPACE_CLUSTER_LABEL, ownerMetadata, podReady, sweepClusterNamespaces } from "../kube/namespaces";
import { renderKubernetes } from "../targets/kubernetes";
import { certificatesFor, imagesFor, targetDigests } from "./target-plan";
import { planCluster } from "../plan/plan";
import { namedPortPlan } from "../plan/network";
import { waitForElection } from "./readiness";

/** The phases of a start on Kubernetes, in order. */
export type KubernetesStartPhase = "connect" | "sweep" | "apply" | "pods" | "placement" | "election";

/** How long stop() and a failed start wait for the namespace to be gone. */
const NAMESPACE_DELETE_TIMEOUT_MS = 120_000;

/** A start on Kubernetes failed: the phase, the cause, the pods at that moment, and whether the namespace is gone. */
export class KubernetesStartError extends Error {
  override readonly name = "KubernetesStartError";
  constructor(
    readonly clusterId: string,
    readonly phase: KubernetesStartPhase,
    override readonly cause: unknown,
    /** The pods of the namespace when the phase failed (one line each), "" when none were read. */
    readonly pods: string,
    /** What the teardown did: the namespace deleted (and gone), never created, or left with the reason. */
    readonly teardown: string,
    /** Milliseconds each phase took, up to the failed one (which ran until it failed). */
    readonly phaseMs: Readonly<Partial<Record<KubernetesStartPhase, number>>> = {},
  ) {
    super(`cluster ${clusterId} on kubernetes failed to start in phase "${phase}": ${cause instanceof Error ? cause.message : String(cause)}` +
      `${pods === "" ? "" : `\npods of namespace ${clusterId}:\n${pods}`}\n(${teardown})`, { cause });
  }
}

/** One aggregator pod, as this process reaches it: its HTTP API through the pod proxy, raw TCP through a port-forward. */
export class KubernetesNode implements ClusterNode {
  readonly api: AggregatorApi;
  constructor(
    /** Instance id = host id = pod name, e.g. `m3aggregator-0`. */
    readonly id: string,
    private readonly placementEndpoint: string,
    private readonly httpUrl: string,
    private readonly dial: () => string,
  ) {
    this.api = new AggregatorApi(httpUrl);
  }

  /** The endpoint in the placement: the pod's DNS name in the cluster (`m3aggregator-0.m3aggregator.<ns>.svc:6003`). */
  getTcpEndpoint(): string {
    return this.placementEndpoint;
  }

  /** `127.0.0.1:<port>`: a local port whose connections reach the pod's raw TCP port through a port-forward. */
  getDialAddress(): string {
    return this.dial();
  }

  /** `http://127.0.0.1:<port>/pods/<pod>:6001`: the pod's HTTP API through the API server's pod proxy. */
  getHttpUrl(): string {
    return this.httpUrl;
  }
}

/** A running cluster in a Kubernetes namespace: node APIs, leaders, logs, the dial map and stop(). */
export class StartedKubernetesCluster extends ElectionHandle implements StartedCluster {
  /** The coordinator's admin API through the API server's service proxy. */
  readonly admin: M3AdminClient;
  private stopping: Promise<void> | undefined;
  private readonly entry = { id: "", stop: () => this.stop() };

  /** @internal made by {@link startKubernetesCluster} */
  constructor(
    readonly plan: ClusterPlan,
    private readonly kube: KubeApi,
    private readonly proxy: KubeProxyRelay,
    private readonly dialRelay: KubeDialRelay,
    readonly nodes: readonly KubernetesNode[],
    /** Milliseconds from the first apply to a settled election, the whole start, and each phase. */
    readonly startupTimings: Readonly<{ applyToReadyMs: number; total: number; phaseMs: Readonly<Partial<Record<KubernetesStartPhase, number>>> }>,
  ) {
    super();
    this.admin = new M3AdminClient(proxy.urlOf("services", SERVICE_NAMES.coordinator, plan.coordinator.port));
    this.entry.id = plan.clusterId;
    registerLiveCluster(this.entry); // SIGINT/SIGTERM delete the namespace
  }

  getClusterId(): string {
    return this.plan.clusterId;
  }

  /** The namespace the cluster runs in (= the cluster id). */
  getNamespace(): string {
    return this.plan.names?.namespace ?? this.plan.clusterId;
  }

  getM3Version(): M3Version {
    return this.plan.version;
  }

  /** @internal The API connection (the load Job runner's, load-job.ts). */
  kubeApi(): KubeApi {
    return this.kube;
  }

  /** The API server and kubeconfig context the cluster runs on. */
  getKubernetes(): { server: string; context: string } {
    return { server: this.kube.server, context: this.kube.context };
  }

  node(which: number | string): KubernetesNode {
    const node = typeof which === "number" ? this.nodes[which] : this.nodes.find((n) => n.id === which);
    if (node === undefined) throw new Error(`no node ${JSON.stringify(which)} in cluster ${this.getClusterId()} (nodes: ${this.nodes.map((n) => n.id).join(", ")})`);
    return node;
  }

  dialAddress(endpoint: string): string {
    return this.nodes.find((n) => n.getTcpEndpoint() === endpoint)?.getDialAddress() ?? endpoint;
  }

  getSink(): M3MsgSink {
    throw new Error(`cluster ${this.getClusterId()} runs on kubernetes: there is no in-process sink (backend "${this.plan.inputs.options.backend}")`);
  }

  /** The pods of the namespace now: one line each with phase, conditions and recent events. */
  describePods(): Promise<string> {
    return describePods(this.kube, this.getNamespace());
  }

  /**
   * What a component printed, through the pod log API, oldest first: "etcd", "m3coordinator" (or
   * "coordinator"), an aggregator's id, or any pod name of the namespace; `tail` keeps the last lines.
   */
  async logs(component: string, options: { tail?: number } = {}): Promise<string[]> {
    const pod = await this.podOf(component);
    const query = options.tail === undefined ? "" : `?tailLines=${options.tail}`;
    const answer = await this.kube.request("GET", namespaced(this.getNamespace(), `pods/${encodeURIComponent(pod)}/log${query}`));
    if (answer.status !== 200) throw new Error(`logs of pod ${pod} in namespace ${this.getNamespace()}: the API server answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    return answer.text.split("\n").filter((line, i, all) => line !== "" || i < all.length - 1);
  }

  /** Writes every pod's log to `<dir>/<clusterId>/<pod>.log` and resolves with the folder. */
  async writeLogs(dir = path.join(process.cwd(), ".m3agg", "logs")): Promise<string> {
    const folder = path.join(dir, this.getClusterId());
    fs.mkdirSync(folder, { recursive: true });
    for (const pod of await listPods(this.kube, this.getNamespace())) {
      const name = pod.metadata.name;
      const text = await this.logs(name).then((lines) => lines.join("\n"), (error: Error) => `(no log: ${error.message})`);
      fs.writeFileSync(path.join(folder, `${name}.log`), `${text}\n`);
    }
    return folder;
  }

  /** The pod of a component name: etcd's StatefulSet pod, the coordinator Deployment's pod, else the name itself. */
  private async podOf(component: string): Promise<string> {
    if (component === "etcd") return "etcd-0";
    if (component !== "m3coordinator" && component !== "coordinator") return component;
    const pods = (await listPods(this.kube, this.getNamespace())).filter((p) => p.metadata.name.startsWith("m3coordinator-"));
    if (pods[0] === undefined) throw new Error(`namespace ${this.getNamespace()} has no m3coordinator pod`);
    return pods[0].metadata.name;
  }

  /** Deletes the namespace and waits until it is gone (its pods and objects with it). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await deleteClusterNamespace(this.kube, this.getNamespace(), NAMESPACE_DELETE_TIMEOUT_MS);
      } finally {
        await this.proxy.close();
        await this.dialRelay.close();
        unregisterLiveCluster(this.getClusterId(), this.entry);
      }
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Starts a cluster on the Kubernetes cluster of `options.target` (see the module comment).
 * @throws KubernetesStartError naming the phase and the pods; the namespace is gone by then
 * (unless it was not this start's, e.g. a live cluster of the same id).
 */
export async function startKubernetesCluster(options: ResolvedClusterOptions,
  /** Called when a phase ends (`ok` false: it failed), e.g. for the CLI's progress lines. */
  onPhaseEnd?: (phase: KubernetesStartPhase, ms: number, ok: boolean) => void): Promise<StartedKubernetesCluster> {
  const t0 = Date.now();
  const target = options.target;
  if (target.kind !== "kubernetes") throw new Error(`startKubernetesCluster needs target kubernetes, got ${target.kind}`);
  const id = options.clusterId;
  const deadline = t0 + options.startTimeoutMs;
  const remaining = () => Math.max(0, deadline - Date.now());
  let phase: KubernetesStartPhase = "connect";
  const phaseMs: Partial<Record<KubernetesStartPhase, number>> = {};
  let phaseStart = t0;
  const enter = (next: KubernetesStartPhase) => {
    phaseMs[phase] = Date.now() - phaseStart;
    onPhaseEnd?.(phase, phaseMs[phase] as number, true);
    phaseStart = Date.now();
    phase = next;
  };
  let kube: KubeApi | undefined;
  let created = false;
  let proxy: KubeProxyRelay | undefined;
  const dial: { relay: KubeDialRelay | undefined } = { relay: undefined };
  const dialed = new Map<string, string>();
  const starting = { id, stop: async () => { if (kube !== undefined) await deleteClusterNamespace(kube, id, NAMESPACE_DELETE_TIMEOUT_MS); } };
  try {
    kube = await KubeApi.connect({ kubeconfig: target.kubeconfig, context: target.context });
    const api = kube;
    // By digest where the registry (or the push record) knows the pushed image: what was pushed, not what the tag names later.
    const { digests, notes } = await targetDigests(options);
    for (const note of notes) process.emitWarning(`cluster ${id}: ${note}`, "M3aggImageByTag"); // the start goes on, by tag
    const images = imagesFor(options, target.registry, digests);
    const plan = planCluster({ options, ports: namedPortPlan(options.nodes), images });
    const namespace = plan.names?.namespace ?? id;

    enter("sweep");
    await sweepClusterNamespaces(api, remaining());
    const existing = await namespaceLabels(api, namespace);
    if (existing !== undefined) {
      throw new Error(`namespace ${namespace} exists already (${existing[NAMESPACE_CLUSTER_LABEL] === undefined ? "not an m3agg cluster's" : "a cluster whose owner process is alive or unknown"}): choose another clusterId, or stop that cluster`);
    }

    enter("apply");
    const objects = renderKubernetes(plan, await certificatesFor(plan)).map((o) => {
      if (o.kind !== "Namespace") return o;
      const owner = ownerMetadata();
      return { ...o, metadata: { ...o.metadata, labels: { ...o.metadata?.labels, ...owner.labels }, annotations: { ...o.metadata?.annotations, ...owner.annotations } } };
    });
    const applied = Date.now();
    created = true; // from here on, a failure deletes the namespace, and so do SIGINT/SIGTERM
    registerLiveCluster(starting);
    await api.apply(objects);

    enter("pods");
    const nodeIds = plan.nodes.map((n) => n.id);
    const isCoordinator = (name: string) => name.startsWith(`${SERVICE_NAMES.coordinator}-`);
    await waitForPods(api, namespace, remaining(), "every pod scheduled, etcd and the coordinator Ready", (pods) => {
      const byName = new Map(pods.map((p) => [p.metadata.name, p]));
      const coordinator = pods.filter((p) => isCoordinator(p.metadata.name) && p.metadata.deletionTimestamp === undefined);
      const etcd = byName.get("etcd-0");
      const scheduled = [...nodeIds.map((n) => byName.get(n)), etcd, ...coordinator].every((p) => p?.spec?.nodeName !== undefined);
      return scheduled && coordinator.length > 0 && etcd !== undefined && podReady(etcd) && coordinator.some(podReady);
    });

    enter("placement");
    proxy = await KubeProxyRelay.start(api, namespace);
    const admin = new M3AdminClient(proxy.urlOf("services", SERVICE_NAMES.coordinator, plan.coordinator.port));
    let lastHealth = "";
    await poll(async () => {
      try {
        if (await admin.isHealthy()) return true;
        lastHealth = "not healthy";
      } catch (error) {
        lastHealth = (error as Error).message;
      }
      const answer = await api.request("GET", namespaced(namespace, `services/${SERVICE_NAMES.coordinator}:${plan.coordinator.port}/proxy/health`), { timeoutMs: 5_000 }).catch((e: unknown) => ({ status: 0, text: (e as Error).message }));
      lastHealth = `GET /health through the service proxy answered ${answer.status}: ${answer.text.trim().slice(0, 300)}`;
      return undefined;
    }, { timeoutMs: remaining(), intervalMs: 500, what: "the coordinator's /health",
      onTimeout: () => new Error(`deadline: the coordinator (service ${SERVICE_NAMES.coordinator}:${plan.coordinator.port}) did not answer /health through the API server's service proxy within the start's ${options.startTimeoutMs} ms; last: ${lastHealth}`) });
    const placement = await createPlacement(admin, plan.placement);

    enter("election");
    await waitForPods(api, namespace, remaining(), "every aggregator pod Ready", (pods) => nodeIds.every((n) => pods.some((p) => p.metadata.name === n && podReady(p))));
    const nodes = plan.nodes.map((n) => new KubernetesNode(n.id, n.tcpEndpoint, (proxy as KubeProxyRelay).urlOf("pods", n.id, n.ports.http), () => dialed.get(n.id) ?? n.tcpEndpoint));
    await waitForElection(shardSetsOf(placement), new Map(nodes.map((n) => [n.id, n.api])), remaining());
    dial.relay = new KubeDialRelay(api, namespace);
    for (const n of plan.nodes) dialed.set(n.id, await dial.relay.expose(n.id, n.ports.tcp));
    const now = Date.now();
    phaseMs[phase] = now - phaseStart;
    onPhaseEnd?.(phase, phaseMs[phase] as number, true);
    unregisterLiveCluster(id, starting); // the handle registers itself
    return new StartedKubernetesCluster(plan, api, proxy, dial.relay, nodes, { applyToReadyMs: now - applied, total: now - t0, phaseMs });
  } catch (cause) {
    phaseMs[phase] = Date.now() - phaseStart; // until it failed: the teardown below is not part of it
    onPhaseEnd?.(phase, phaseMs[phase] as number, false);
    let pods = "";
    let teardown = "nothing was created: the namespace was not touched";
    if (kube !== undefined && created) {
      pods = await describePods(kube, id);
      try {
        await deleteClusterNamespace(kube, id, NAMESPACE_DELETE_TIMEOUT_MS);
        teardown = `namespace ${id} deleted and gone`;
      } catch (error) {
        teardown = `namespace ${id} NOT removed: ${(error as Error).message}`;
      }
    }
    await proxy?.close();
    await dial.relay?.close();
    unregisterLiveCluster(id, starting);
    throw new KubernetesStartError(id, phase, cause, pods, teardown, phaseMs);
  }
}


/** Polls the namespace's pods until `done`; at the deadline throws naming what was awaited (the start's error adds every pod's state). */
async function waitForPods(api: KubeApi, namespace: string, timeoutMs: number, what: string,
  done: (pods: PodObject[]) => boolean): Promise<void> {
  await poll(async () => (done(await listPods(api, namespace)) ? true : undefined), {
    timeoutMs, intervalMs: 250, what, onTimeout: () => new Error(`deadline: not ${what} within ${timeoutMs} ms`),
  });
}
