/**
 * runLoadJob: a load sent from inside a Kubernetes cluster. The load generator (images/go/loadgen,
 * m3's own aggregator client) runs as a Job ({@link renderLoadJob}) in the cluster's namespace and
 * reaches the aggregators by their DNS names, so a big load never goes through a port-forward; its
 * one-line JSON report comes back through the pod log API.
 *
 * Phases, each bounded by the run's deadline: apply (the Job), wait (Complete or Failed), log (the
 * pod's log), report (the line parsed). The Job (and its pod, foreground deletion) is deleted on
 * every path, and the run waits until it is gone.
 */
import type { StartedKubernetesCluster } from "./kubernetes";
import { loadJobDeadlineSeconds, renderLoadJob, type LoadJobOptions } from "../targets/load-job";
import { versionProfile } from "../model/versions";
import { describePods, listPods, type PodObject } from "../kube/namespaces";
import { namespaced, type KubeApi } from "../kube/api";
import { poll } from "../util/poll";

/** What `runLoadJob` sends. */
export interface LoadJobRunOptions {
  /** Distinct counter ids (default 1000). */
  ids?: number;
  /** Increments per id (default 100): every id ends at increments × value. */
  increments?: number;
  /** Value of each increment (default 1). */
  value?: number;
  /** Metrics per second (default: as fast as the client takes them). */
  rate?: number;
  /** Prefix of every id (default `load.<random>`), so runs on one cluster do not mix. */
  idPrefix?: string;
  /** The generator image (default: the cluster's registry + `m3agg-local/loadgen:<m3 version>`). */
  image?: string;
  /** The whole run's deadline in ms (default: the Job's activeDeadlineSeconds + 60 s). */
  timeoutMs?: number;
}

/** The generator's report line (images/go/loadgen-<version>/main.go). */
export interface LoadgenReport {
  report: "m3agg-loadgen/v1";
  ok: boolean;
  idPrefix: string;
  ids: number;
  increments: number;
  value: number;
  /** Metrics the client accepted, per type. */
  sent: Record<string, number>;
  errors: number;
  firstError?: string;
  /** Where the generator stopped ("done" when it finished). */
  phase: string;
  initMs: number;
  sendMs: number;
  flushMs: number;
  ratePerSec: number;
}

/** A finished load Job: its names, its report, and what each id must sum to (from the parameters). */
export interface LoadJobResult {
  job: string;
  pod: string;
  /** Every id of the load (`<idPrefix>.<i>`). */
  ids: string[];
  /** What each id must sum to in the cluster's output: increments × value. */
  expectedPerId: number;
  report: LoadgenReport;
  /** Milliseconds from the apply to the Job's end, and the whole run (delete included). */
  jobMs: number;
  totalMs: number;
}

export type LoadJobPhase = "apply" | "wait" | "log" | "report";

/** A load Job failed: the phase, the Job, its pod's state and events, and whether the Job is gone. */
export class LoadJobError extends Error {
  override readonly name = "LoadJobError";
  constructor(
    readonly job: string,
    readonly namespace: string,
    readonly phase: LoadJobPhase,
    override readonly cause: unknown,
    /** The Job's pod(s) when the phase failed: phase, conditions, events (one line each). */
    readonly pods: string,
    /** What the teardown did: the Job deleted and gone, or left with the reason. */
    readonly teardown: string,
  ) {
    super(`load job ${job} in namespace ${namespace} failed in phase "${phase}": ${cause instanceof Error ? cause.message : String(cause)}` +
      `${pods === "" ? "" : `\npods of job ${job}:\n${pods}`}\n(${teardown})`, { cause });
  }
}

const jobPath = (namespace: string, name = "") => `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs${name === "" ? "" : `/${encodeURIComponent(name)}`}`;

interface JobObject { status?: { succeeded?: number; failed?: number; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } }

/** The Job's end: "Complete" or "Failed" (with the reason), or undefined while it runs. */
function jobEnd(job: JobObject): { ok: boolean; text: string } | undefined {
  const done = (job.status?.conditions ?? []).find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
  return done === undefined ? undefined : { ok: done.type === "Complete", text: `${done.type}${done.reason === undefined ? "" : ` (${done.reason}${done.message === undefined ? "" : `: ${done.message}`})`}` };
}

/** The report line in a pod log that mixes stderr in: the last line carrying `"report":"m3agg-loadgen/v1"`. */
export function parseLoadgenReport(log: string): LoadgenReport | undefined {
  for (const line of log.split("\n").reverse()) {
    if (!line.includes("m3agg-loadgen/v1")) continue;
    try {
      const parsed = JSON.parse(line) as Partial<LoadgenReport>;
      if (parsed.report === "m3agg-loadgen/v1") return parsed as LoadgenReport;
    } catch {
      // a log line that merely mentions it
    }
  }
  return undefined;
}

/** The Job's own events (e.g. the Job controller's FailedCreate, DeadlineExceeded), one line, "" when none. */
async function jobEvents(api: KubeApi, namespace: string, name: string): Promise<string> {
  try {
    const selector = encodeURIComponent(`involvedObject.kind=Job,involvedObject.name=${name}`);
    const list = await api.json<{ items: Array<{ type?: string; reason?: string; message?: string; count?: number }> }>("GET", namespaced(namespace, `events?fieldSelector=${selector}`));
    return list.items.slice(-5).map((e) => `${e.type ?? "?"} ${e.reason ?? "?"}${(e.count ?? 1) > 1 ? ` x${e.count}` : ""}: ${(e.message ?? "").slice(0, 300)}`).join(" | ");
  } catch (error) {
    return `(events unreadable: ${(error as Error).message})`;
  }
}

/**
 * Deletes the Job (foreground: its pod first) and waits until the API server knows neither the Job nor
 * a pod of it (a pod the garbage collector left behind is deleted here).
 */
async function deleteJob(api: KubeApi, namespace: string, name: string, timeoutMs: number): Promise<string> {
  const ofJob = (pod: PodObject) => pod.metadata.name.startsWith(`${name}-`);
  try {
    const answer = await api.request("DELETE", jobPath(namespace, name), { body: JSON.stringify({ propagationPolicy: "Foreground" }) });
    if (answer.status !== 404 && (answer.status < 200 || answer.status > 299)) return `job ${name} NOT removed: DELETE answered ${answer.status}: ${answer.text.slice(0, 200)}`;
    const deadline = Date.now() + timeoutMs;
    await poll(async () => ((await api.request("GET", jobPath(namespace, name))).status === 404 ? true : undefined),
      { timeoutMs, intervalMs: 250, what: `job ${name} gone` });
    await poll(async () => {
      const left = (await listPods(api, namespace)).filter(ofJob);
      for (const pod of left.filter((p) => p.metadata.deletionTimestamp === undefined)) {
        await api.request("DELETE", namespaced(namespace, `pods/${encodeURIComponent(pod.metadata.name)}`));
      }
      return left.length === 0 ? true : undefined;
    }, { timeoutMs: Math.max(1, deadline - Date.now()), intervalMs: 250, what: `the pods of job ${name} gone` });
    return `job ${name} deleted and gone`;
  } catch (error) {
    return `job ${name} NOT removed: ${(error as Error).message}`;
  }
}

/**
 * Runs a load Job in the cluster's namespace and resolves with the generator's report and what
 * each id must sum to (for the caller's own check: the cluster's output is not this function's to read).
 * @throws LoadJobError naming the phase, the Job and its pod; the Job is gone by then (else the error says why not).
 */
export async function runLoadJob(cluster: StartedKubernetesCluster, options: LoadJobRunOptions = {}): Promise<LoadJobResult> {
  const t0 = Date.now();
  const api = cluster.kubeApi();
  const plan = cluster.plan;
  const namespace = cluster.getNamespace();
  const target = plan.inputs.options.target;
  const registry = target.kind === "kubernetes" ? target.registry : undefined;
  const local = versionProfile(plan.version).localImages.loadgen;
  const suffix = Math.random().toString(36).slice(2, 8);
  const job: LoadJobOptions = {
    name: `m3agg-load-${suffix}`,
    image: options.image ?? (registry === undefined ? local : `${registry.replace(/\/+$/, "")}/${local}`),
    ids: options.ids ?? 1000,
    increments: options.increments ?? 100,
    value: options.value ?? 1,
    rate: options.rate,
    idPrefix: options.idPrefix ?? `load.${suffix}`,
  };
  const object = renderLoadJob(plan, job); // bad parameters throw here, before anything exists
  const timeoutMs = options.timeoutMs ?? loadJobDeadlineSeconds(job) * 1000 + 60_000;
  const deadline = t0 + timeoutMs;
  const remaining = () => Math.max(0, deadline - Date.now());
  const ofJob = (pod: string) => pod.startsWith(`${job.name}-`);
  let phase: LoadJobPhase = "apply";
  let created = false;
  let result: Omit<LoadJobResult, "totalMs"> | undefined;
  let failure: unknown;
  let pods = "";
  try {
    created = true; // a refused apply leaves nothing, and the delete below then finds nothing
    await api.apply([object]);
    const applied = Date.now();

    phase = "wait";
    let last: JobObject = {};
    const end = await poll(async () => {
      last = await api.json<JobObject>("GET", jobPath(namespace, job.name));
      return jobEnd(last);
    }, { timeoutMs: remaining(), intervalMs: 500, what: `job ${job.name} to end`,
      onTimeout: () => new Error(`deadline: job ${job.name} did not end within ${timeoutMs} ms (active deadline ${object.spec === undefined ? "?" : (object.spec as { activeDeadlineSeconds?: number }).activeDeadlineSeconds} s); status ${JSON.stringify(last.status ?? {})}`) });
    const jobMs = Date.now() - applied;

    phase = "log";
    const pod = (await listPods(api, namespace)).filter((p: PodObject) => ofJob(p.metadata.name))[0]?.metadata.name;
    if (pod === undefined) throw new Error(`job ${job.name} ended ${end.text} and has no pod to read the report from`);
    const answer = await api.request("GET", namespaced(namespace, `pods/${encodeURIComponent(pod)}/log`), { timeoutMs: Math.min(30_000, Math.max(1, remaining())) });
    if (answer.status !== 200) throw new Error(`logs of pod ${pod}: the API server answered ${answer.status}: ${answer.text.slice(0, 300)}`);

    phase = "report";
    const report = parseLoadgenReport(answer.text);
    if (report === undefined) throw new Error(`job ${job.name} ended ${end.text}; pod ${pod} printed no report line; log tail: ${answer.text.slice(-1000)}`);
    if (!end.ok || !report.ok) throw new Error(`job ${job.name} ended ${end.text}; its report: ok ${report.ok}, phase ${report.phase}, sent ${JSON.stringify(report.sent)}, errors ${report.errors}${report.firstError === undefined ? "" : `, first: ${report.firstError}`}`);
    result = {
      job: job.name, pod, report, jobMs,
      ids: Array.from({ length: job.ids }, (_, i) => `${job.idPrefix}.${i}`),
      expectedPerId: job.increments * (job.value ?? 1),
    };
  } catch (error) {
    failure = error;
    const events = await jobEvents(api, namespace, job.name);
    pods = `${await describePods(api, namespace, ofJob)}${events === "" ? "" : `\n  events of job ${job.name}: ${events}`}`;
  }
  const teardown = created ? await deleteJob(api, namespace, job.name, Math.max(30_000, remaining())) : "nothing was created";
  if (failure !== undefined) throw new LoadJobError(job.name, namespace, phase, failure, pods, teardown);
  if (!teardown.endsWith("deleted and gone")) throw new LoadJobError(job.name, namespace, "report", new Error("the load ended, but its Job could not be removed"), "", teardown);
  return { ...(result as Omit<LoadJobResult, "totalMs">), totalMs: Date.now() - t0 };
}
