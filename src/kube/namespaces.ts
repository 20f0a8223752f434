/**
 * The namespaces of m3agg clusters on a Kubernetes cluster: who owns one (labels and an annotation
 * on the Namespace, written at apply), deleting one and waiting until it is gone, finding the ones
 * whose owner process died (the orphan sweep), and what the pods of one are doing (for errors).
 * Only namespaces that carry both the cluster label and the owner label are ever touched.
 */
import { ownerAlive, type ProcessIdentity, selfIdentity } from "../util/process-alive";
import { poll } from "../util/poll";
import { type KubeApi, namespaced } from "./api";

/** Label with the cluster id on the Namespace and every object in it (targets/kubernetes.ts renders it). */
export const NAMESPACE_CLUSTER_LABEL = "org.m3agg/cluster";
/** Label with the owner process's pid: a namespace with it is deleted once that process is gone. */
export const NAMESPACE_OWNER_PID_LABEL = "org.m3agg/owner-pid";
/** Annotation with the whole owner identity (pid, start time, host, pid namespace) as JSON. */
export const NAMESPACE_OWNER_ANNOTATION = "org.m3agg/owner";

/** The labels and annotations that make this process a namespace's owner. */
export function ownerMetadata(owner: ProcessIdentity = selfIdentity()): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: { [NAMESPACE_OWNER_PID_LABEL]: String(owner.pid) },
    annotations: { [NAMESPACE_OWNER_ANNOTATION]: JSON.stringify({ pid: owner.pid, start: owner.start, host: owner.host, ns: owner.ns }) },
  };
}

interface NamespaceObject {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string };
  status?: { phase?: string };
}

/** An m3agg namespace: its cluster id and owner (undefined when the annotation is unreadable). */
export interface ClusterNamespace {
  name: string;
  clusterId: string;
  owner: Partial<ProcessIdentity> | undefined;
  terminating: boolean;
}

/** Namespaces carrying the cluster and the owner label. */
export async function clusterNamespaces(api: KubeApi): Promise<ClusterNamespace[]> {
  const selector = encodeURIComponent(`${NAMESPACE_CLUSTER_LABEL},${NAMESPACE_OWNER_PID_LABEL}`);
  const list = await api.json<{ items: NamespaceObject[] }>("GET", `/api/v1/namespaces?labelSelector=${selector}`);
  return list.items
    // The selector already says so; checked again, since deleting is the one thing that must never go wider.
    .filter((n) => n.metadata.labels?.[NAMESPACE_CLUSTER_LABEL] !== undefined && n.metadata.labels?.[NAMESPACE_OWNER_PID_LABEL] !== undefined)
    .map((n) => {
      let owner: Partial<ProcessIdentity> | undefined;
      try {
        owner = JSON.parse(n.metadata.annotations?.[NAMESPACE_OWNER_ANNOTATION] ?? "") as Partial<ProcessIdentity>;
      } catch {
        owner = undefined;
      }
      return { name: n.metadata.name, clusterId: n.metadata.labels?.[NAMESPACE_CLUSTER_LABEL] ?? "", owner, terminating: n.metadata.deletionTimestamp !== undefined };
    });
}

/** The namespace's labels, or undefined when there is no such namespace. */
export async function namespaceLabels(api: KubeApi, name: string): Promise<Record<string, string> | undefined> {
  const response = await api.request("GET", `/api/v1/namespaces/${encodeURIComponent(name)}`);
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw new Error(`GET namespace ${name} answered ${response.status}: ${response.text.slice(0, 300)}`);
  return (JSON.parse(response.text) as NamespaceObject).metadata.labels ?? {};
}

/**
 * Deletes namespace `name` (only when it carries our labels) and waits until the API server no
 * longer has it (the namespace controller deletes its pods and objects first). Resolves false when
 * there was no such namespace. @throws naming the namespace and what is left in it at the deadline.
 */
export async function deleteClusterNamespace(api: KubeApi, name: string, timeoutMs: number): Promise<boolean> {
  const labels = await namespaceLabels(api, name);
  if (labels === undefined) return false;
  if (labels[NAMESPACE_CLUSTER_LABEL] === undefined) throw new Error(`namespace ${name} carries no ${NAMESPACE_CLUSTER_LABEL} label: it is not an m3agg cluster's, so it is left alone`);
  const response = await api.request("DELETE", `/api/v1/namespaces/${encodeURIComponent(name)}`, { body: JSON.stringify({ propagationPolicy: "Background" }) });
  if (response.status !== 200 && response.status !== 202 && response.status !== 404) {
    throw new Error(`deleting namespace ${name} answered ${response.status}: ${response.text.slice(0, 300)}`);
  }
  let pods: string[] = [];
  await poll(async () => {
    if ((await api.request("GET", `/api/v1/namespaces/${encodeURIComponent(name)}`)).status === 404) return true;
    pods = (await listPods(api, name)).map((p) => p.metadata.name);
    return undefined;
  }, {
    timeoutMs, intervalMs: 250, what: `namespace ${name} gone`,
    onTimeout: () => new Error(`phase teardown: namespace ${name} still exists ${timeoutMs} ms after its deletion${pods.length === 0 ? "" : ` (pods left: ${pods.join(", ")})`}; is the namespace controller (kube-controller-manager) running?`),
  });
  return true;
}

/**
 * The orphan sweep of a Kubernetes cluster: deletes the m3agg namespaces whose owner process is
 * known to be dead (same host and pid namespace as this process; others are never judged), and
 * waits until they are gone. Resolves with the namespaces deleted.
 */
export async function sweepClusterNamespaces(api: KubeApi, timeoutMs = 60_000): Promise<string[]> {
  const dead = (await clusterNamespaces(api)).filter((n) => n.owner !== undefined && !ownerAlive(n.owner));
  await Promise.all(dead.map((n) => deleteClusterNamespace(api, n.name, timeoutMs)));
  return dead.map((n) => n.name);
}

/** The parts of a Pod the waits read. */
export interface PodObject {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; state?: Record<string, { reason?: string; message?: string; exitCode?: number } | undefined> }> };
}

/** The pods of namespace `namespace`, by name. */
export async function listPods(api: KubeApi, namespace: string): Promise<PodObject[]> {
  const list = await api.json<{ items: PodObject[] }>("GET", namespaced(namespace, "pods"));
  return list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** True when the pod runs and its Ready condition is True. */
export function podReady(pod: PodObject): boolean {
  return pod.status?.phase === "Running" && pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
}

interface EventObject {
  involvedObject?: { kind?: string; name?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
}

/**
 * One line per pod (phase, node, conditions, waiting/terminated containers, its last events) and
 * the warnings of the controllers (e.g. a StatefulSet whose pods admission refused): what an
 * error of a wait on the pods says.
 */
export async function describePods(api: KubeApi, namespace: string, only?: (pod: string) => boolean): Promise<string> {
  let pods: PodObject[] = [];
  let events: EventObject[] = [];
  try {
    [pods, events] = await Promise.all([listPods(api, namespace), api.json<{ items: EventObject[] }>("GET", namespaced(namespace, "events")).then((l) => l.items)]);
  } catch (error) {
    return `(pods of namespace ${namespace} unreadable: ${(error as Error).message})`;
  }
  const eventText = (e: EventObject) => `${e.type ?? "?"} ${e.reason ?? "?"}${(e.count ?? 1) > 1 ? ` x${e.count}` : ""}: ${(e.message ?? "").slice(0, 200)}`;
  const lines = pods.filter((p) => only === undefined || only(p.metadata.name)).map((p) => {
    const s = p.status ?? {};
    const conditions = (s.conditions ?? []).map((c) => `${c.type}=${c.status}${c.reason === undefined ? "" : `(${c.reason})`}`).join(" ");
    const containers = (s.containerStatuses ?? []).flatMap((c) => Object.entries(c.state ?? {}).filter(([state]) => state !== "running")
      .map(([state, d]) => `${c.name} ${state}${d?.reason === undefined ? "" : ` ${d.reason}`}${d?.message === undefined ? "" : `: ${d.message.slice(0, 120)}`}`));
    const own = events.filter((e) => e.involvedObject?.kind === "Pod" && e.involvedObject.name === p.metadata.name).slice(-3).map(eventText);
    return `  pod ${p.metadata.name}: ${s.phase ?? "no phase"}${p.spec?.nodeName === undefined ? " (not scheduled)" : ` on ${p.spec.nodeName}`}${p.metadata.deletionTimestamp === undefined ? "" : " (terminating)"}` +
      `${s.podIP === undefined ? "" : ` ip ${s.podIP}`}; ${conditions || "no conditions"}${containers.length === 0 ? "" : `; ${containers.join("; ")}`}` +
      `${own.length === 0 ? "" : `; events: ${own.join(" | ")}`}`;
  });
  const controllers = events.filter((e) => e.type === "Warning" && e.involvedObject?.kind !== "Pod").slice(-5)
    .map((e) => `  ${e.involvedObject?.kind ?? "?"}/${e.involvedObject?.name ?? "?"}: ${eventText(e)}`);
  return [...(lines.length === 0 ? ["  no pods"] : lines), ...controllers].join("\n");
}
