/**
 * The cluster plan as Kubernetes objects: a pure function of the plan (and, with TLS on, of the
 * certificates' contents, which the plan only references).
 *
 * - a Namespace per cluster, Pod Security `restricted` enforced, the plan's inputs as an annotation;
 * - etcd: a StatefulSet (pod `etcd-0`) behind a headless Service;
 * - the coordinator: a Deployment and a Service;
 * - the aggregators: a StatefulSet (pods `m3aggregator-<i>`, Parallel: every node waits for the
 *   placement, so they start together) behind a headless Service with publishNotReadyAddresses
 *   (aggregators open their ports only after reading the placement, so their names must resolve
 *   before they are ready); the host id comes from the pod name through the environment;
 * - configs in a ConfigMap, TLS (CA, certificates, keys) in a Secret;
 * - readiness probes on /health, and a securityContext that passes `restricted`.
 */
import { stringify } from "yaml";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { ISecret } from "kubernetes-models/v1/Secret";
import type { IService } from "kubernetes-models/v1/Service";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { type ClusterPlan, encodePlanLabel } from "../plan/plan";
import { SERVICE_NAMES } from "../model/network";
import { HOST_ID_ENV, RUN_AS, type TlsFiles, type Workload, type Workloads, workloadsOf } from "./workloads";

/** The objects rendered, typed by kubernetes-models' API types while they are built. */
type TypedObject = INamespace | IConfigMap | ISecret | IService | IStatefulSet | IDeployment;

/** A rendered object: what `kubectl apply` and server-side apply take. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Annotation (on the Namespace) holding the plan's inputs: `{ "v": 1, options, ports, images }`. */
export const PLAN_ANNOTATION = "org.m3agg/plan";
/** Label with the cluster id on every object (the namespace is named after it too). */
export const CLUSTER_LABEL = "org.m3agg/cluster";
/** Kubernetes limits: label values (63 characters) and all annotations of an object (256 KiB). */
export const LABEL_VALUE_MAX = 63;
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;

const CONFIG_MAP = "m3agg-config";
const TLS_SECRET = "m3agg-tls";

function labelsOf(plan: ClusterPlan, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": component,
    "app.kubernetes.io/instance": plan.clusterId,
    "app.kubernetes.io/part-of": "m3agg",
    "app.kubernetes.io/managed-by": "m3agg",
    "app.kubernetes.io/version": plan.version,
    [CLUSTER_LABEL]: plan.clusterId,
  };
}

/** What selects a component's pods (a subset of its labels that never changes). */
function selectorOf(plan: ClusterPlan, component: string): Record<string, string> {
  return { "app.kubernetes.io/name": component, "app.kubernetes.io/instance": plan.clusterId };
}

/** The pod-level securityContext of Pod Security `restricted`: non-root, seccomp RuntimeDefault. */
const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: RUN_AS.uid,
  runAsGroup: RUN_AS.gid,
  fsGroup: RUN_AS.gid,
  seccompProfile: { type: "RuntimeDefault" },
} satisfies IPodSpec["securityContext"];

/** The container-level securityContext of `restricted`: no escalation, every capability dropped. */
const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
} satisfies IContainer["securityContext"];

/** Volumes and mounts of a workload's files (ConfigMap keys, Secret keys) and scratch dirs. */
function filesOf(w: Workload): { volumes: IVolume[]; mounts: IVolumeMount[] } {
  const volumes: IVolume[] = [];
  const mounts: IVolumeMount[] = [];
  const config = w.files.filter((f) => !f.secret);
  const secret = w.files.filter((f) => f.secret);
  if (config.length > 0) {
    volumes.push({ name: "config", configMap: { name: CONFIG_MAP, defaultMode: 0o444 } });
    for (const f of config) mounts.push({ name: "config", mountPath: f.path, subPath: f.key, readOnly: true });
  }
  if (secret.length > 0) {
    // 0440 and fsGroup: readable by the pod's group only.
    volumes.push({ name: "tls", secret: { secretName: TLS_SECRET, defaultMode: 0o440 } });
    for (const f of secret) mounts.push({ name: "tls", mountPath: f.path, subPath: f.key, readOnly: true });
  }
  w.scratchDirs.forEach((dir, i) => {
    volumes.push({ name: `scratch-${i}`, emptyDir: { medium: "Memory" } });
    mounts.push({ name: `scratch-${i}`, mountPath: dir });
  });
  return { volumes, mounts };
}

/** The pod template of a workload. `env` replaces the workload's own (the aggregators' host id comes from the pod). */
function podOf(plan: ClusterPlan, w: Workload, env?: IContainer["env"]): { metadata: { labels: Record<string, string> }; spec: IPodSpec } {
  const { volumes, mounts } = filesOf(w);
  const [command, ...args] = w.command;
  return {
    metadata: { labels: labelsOf(plan, w.component) },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: POD_SECURITY,
      terminationGracePeriodSeconds: 5,
      volumes,
      containers: [{
        name: w.component,
        image: w.image,
        imagePullPolicy: "IfNotPresent",
        command: [command ?? ""],
        args,
        env: env ?? Object.entries(w.env).map(([name, value]) => ({ name, value })),
        ports: w.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" as const })),
        readinessProbe: { httpGet: { path: w.readiness.path, port: w.readiness.port }, periodSeconds: 1, failureThreshold: 3, timeoutSeconds: 2 },
        resources: { requests: { cpu: "100m", memory: "128Mi" } },
        securityContext: CONTAINER_SECURITY,
        volumeMounts: mounts,
      }],
    },
  };
}

function service(plan: ClusterPlan, name: string, component: string, ports: Workload["ports"], headless: boolean): IService {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: plan.clusterId, labels: labelsOf(plan, component) },
    spec: {
      selector: selectorOf(plan, component),
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: "TCP" as const })),
      ...(headless ? { clusterIP: "None", publishNotReadyAddresses: true } : { type: "ClusterIP" as const }),
    },
  };
}

/**
 * The cluster plan as Kubernetes objects, in apply order. Throws for a plan of the loopback
 * model, and for a TLS plan without `tls` (the certificates' contents).
 */
export function renderKubernetes(plan: ClusterPlan, tls?: TlsFiles): KubernetesObject[] {
  const w: Workloads = workloadsOf(plan, tls);
  const ns = w.namespace;
  const meta = (name: string, component: string) => ({ name, namespace: ns, labels: labelsOf(plan, component) });
  const files = [w.etcd, w.coordinator, ...w.nodes].flatMap((x) => x.files);
  const configData = Object.fromEntries(files.filter((f) => !f.secret).map((f) => [f.key, f.content]));
  const secretData = Object.fromEntries(files.filter((f) => f.secret).map((f) => [f.key, f.content]));
  const node = w.nodes[0];
  if (node === undefined) throw new Error(`cluster ${plan.clusterId}: a plan without nodes`);
  const restricted = "restricted";

  const objects: TypedObject[] = [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: ns,
        labels: {
          ...labelsOf(plan, "cluster"),
          "pod-security.kubernetes.io/enforce": restricted,
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/warn": restricted,
          "pod-security.kubernetes.io/audit": restricted,
        },
        annotations: { [PLAN_ANNOTATION]: encodePlanLabel(plan.inputs) },
      },
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta(CONFIG_MAP, "cluster"), data: configData },
  ];
  if (Object.keys(secretData).length > 0) {
    objects.push({ apiVersion: "v1", kind: "Secret", metadata: meta(TLS_SECRET, "cluster"), type: "Opaque", stringData: secretData });
  }
  objects.push(
    service(plan, SERVICE_NAMES.etcd, "etcd", w.etcd.ports, true),
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta(SERVICE_NAMES.etcd, "etcd"),
      spec: { serviceName: SERVICE_NAMES.etcd, replicas: 1, selector: { matchLabels: selectorOf(plan, "etcd") }, template: podOf(plan, w.etcd) },
    },
    service(plan, SERVICE_NAMES.coordinator, "m3coordinator", w.coordinator.ports, false),
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(SERVICE_NAMES.coordinator, "m3coordinator"),
      spec: { replicas: 1, selector: { matchLabels: selectorOf(plan, "m3coordinator") }, template: podOf(plan, w.coordinator) },
    },
    service(plan, SERVICE_NAMES.aggregators, "m3aggregator", node.ports, true),
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta(SERVICE_NAMES.aggregators, "m3aggregator"),
      spec: {
        serviceName: SERVICE_NAMES.aggregators,
        replicas: w.nodes.length,
        podManagementPolicy: "Parallel",
        selector: { matchLabels: selectorOf(plan, "m3aggregator") },
        // One template for every node: the host id (= placement instance id) is the pod's name.
        template: podOf(plan, node, [{ name: HOST_ID_ENV, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]),
      },
    },
  );
  return objects as KubernetesObject[];
}

/** The objects as one multi-document YAML stream (`kubectl apply -f -`). */
export function kubernetesYaml(objects: KubernetesObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");
}
