/**
 * The load generator as a Kubernetes Job (`m3agg load --target kubernetes`): a pure function of the
 * cluster's plan and the load's parameters. The Job runs images/go/loadgen-<version> (m3's own
 * aggregator client) in the cluster's namespace, pointed at the plan's etcd by its DNS name, so the
 * load never goes through a port-forward; its one-line JSON report is the pod's log.
 */
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { ClusterPlan } from "../plan/plan";
import { ENVIRONMENT, ZONE } from "../m3/placement";
import { CLUSTER_LABEL, type KubernetesObject } from "./kubernetes";
import { RUN_AS } from "./workloads";

/** The parameters of one load Job. */
export interface LoadJobOptions {
  /** The Job's name (a DNS label), unique in the namespace while it runs. */
  name: string;
  /** The load generator image (e.g. `<registry>/m3agg-local/loadgen:v1.6.0`). */
  image: string;
  /** Distinct counter ids, `<idPrefix>.0` … `<idPrefix>.<ids-1>`. */
  ids: number;
  /** Increments each id gets. */
  increments: number;
  /** Value of each increment (default 1). */
  value?: number;
  /** Metrics per second; undefined or 0 = as fast as the client takes them. */
  rate?: number;
  /** Prefix of every id. */
  idPrefix: string;
  /** Seconds the pod may take beyond the send itself (placement watch, flush). Default {@link LOAD_JOB_SLACK_SECONDS}. */
  slackSeconds?: number;
}

/** What a Job may take beyond its send (start, placement watch, flush): part of its activeDeadlineSeconds. */
export const LOAD_JOB_SLACK_SECONDS = 120;
/** activeDeadlineSeconds of a Job sending as fast as it can (no rate: no duration to derive it from). */
export const LOAD_JOB_UNPACED_SECONDS = 600;
/** The label naming the load Job (besides the `job-name` label the Job controller sets on its pod). */
export const LOAD_JOB_LABEL = "org.m3agg/load-job";

/** The send's duration the Job is given: ids × increments at `rate`, or the unpaced bound. */
export function loadJobDeadlineSeconds(options: Pick<LoadJobOptions, "ids" | "increments" | "rate" | "slackSeconds">): number {
  const send = options.rate === undefined || options.rate <= 0 ? LOAD_JOB_UNPACED_SECONDS : Math.ceil((options.ids * options.increments) / options.rate);
  return send + (options.slackSeconds ?? LOAD_JOB_SLACK_SECONDS);
}

/** Throws naming the value when a parameter cannot make a Job. */
function check(plan: ClusterPlan, o: LoadJobOptions): void {
  const positive = (what: string, v: number | undefined, integer: boolean) => {
    if (v !== undefined && (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v)))) throw new Error(`load job ${o.name} of cluster ${plan.clusterId}: ${what} must be a ${integer ? "whole " : ""}number ≥ 0, got ${v}`);
  };
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(o.name)) throw new Error(`load job of cluster ${plan.clusterId}: name ${JSON.stringify(o.name)} is no DNS label`);
  positive("ids", o.ids, true);
  positive("increments", o.increments, true);
  positive("value", o.value, true);
  positive("rate", o.rate, false);
  if (o.ids === 0 || o.increments === 0) throw new Error(`load job ${o.name} of cluster ${plan.clusterId}: ids (${o.ids}) and increments (${o.increments}) must be positive`);
  if (!/^[A-Za-z0-9._-]+$/.test(o.idPrefix)) throw new Error(`load job ${o.name} of cluster ${plan.clusterId}: idPrefix ${JSON.stringify(o.idPrefix)} may hold letters, digits, '.', '_' and '-' only`);
}

/**
 * The batch/v1 Job of a load against the cluster of `plan` (named model: its etcd by DNS name):
 * backoffLimit 0 (a failed send is reported, never retried: a retry would double the totals),
 * activeDeadlineSeconds from the send's duration, the restricted securityContext of the cluster's
 * other workloads. Throws for a loopback plan and for parameters that cannot make a Job.
 */
export function renderLoadJob(plan: ClusterPlan, options: LoadJobOptions): KubernetesObject {
  const names = plan.names;
  if (plan.network !== "named" || names === undefined) {
    throw new Error(`cluster ${plan.clusterId}: a load Job needs a plan of the named network model (this one is ${plan.network}): start the cluster with target kubernetes`);
  }
  check(plan, options);
  const labels = {
    "app.kubernetes.io/name": "loadgen",
    "app.kubernetes.io/instance": plan.clusterId,
    "app.kubernetes.io/part-of": "m3agg",
    "app.kubernetes.io/managed-by": "m3agg",
    "app.kubernetes.io/version": plan.version,
    [CLUSTER_LABEL]: plan.clusterId,
    [LOAD_JOB_LABEL]: options.name,
  };
  const args = [
    `-etcd=${names.hosts.etcd}:${plan.etcd.clientPort}`,
    `-env=${ENVIRONMENT}`,
    `-zone=${ZONE}`,
    `-ids=${options.ids}`,
    `-increments=${options.increments}`,
    `-value=${options.value ?? 1}`,
    `-rate=${options.rate ?? 0}`,
    `-id-prefix=${options.idPrefix}`,
  ];
  const job: IJob = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: options.name, namespace: names.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: loadJobDeadlineSeconds(options),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 5,
          securityContext: { runAsNonRoot: true, runAsUser: RUN_AS.uid, runAsGroup: RUN_AS.gid, seccompProfile: { type: "RuntimeDefault" } },
          containers: [{
            name: "loadgen",
            image: options.image,
            imagePullPolicy: "IfNotPresent",
            command: ["/bin/m3agg-loadgen"],
            args,
            resources: { requests: { cpu: "100m", memory: "64Mi" } },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, runAsNonRoot: true },
          }],
        },
      },
    },
  };
  return job as KubernetesObject;
}
