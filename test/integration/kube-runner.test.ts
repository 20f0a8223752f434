/**
 * API layer, the runner: `M3AggregatorCluster.start({ target: { kubernetes } })` against a real
 * control plane on 127.0.0.1 (kube-apiserver, controller-manager, scheduler) with kwok's fake node
 * (test/kube/control-plane.ts): pods are really created, admitted, scheduled and marked
 * Running/Ready by kwok, but no container runs, so nothing answers behind the API server's proxy.
 * What is checked, with the test's own client (test/kube/kube-client.mjs), not the runner's:
 * - start() applies, every pod gets scheduled and Ready, then the start fails at the placement
 *   phase with a deadline error naming the phase and the pods, and the namespace is gone after;
 * - the sweep deletes the namespace of a dead owner, and never an unlabelled namespace or one of a
 *   live owner; a start whose namespace exists and is not ours refuses and leaves it;
 * - `m3agg up --target kubernetes` with a bad option is a usage error naming the rule.
 */
import { spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { KubernetesStartError, StartedKubernetesCluster } from "../../src/cluster/kubernetes";
import { LoadJobError, runLoadJob } from "../../src/cluster/load-job";
import { planForTarget } from "../../src/cluster/target-plan";
import { renderKubernetes } from "../../src/targets/kubernetes";
import { KubeApi } from "../../src/kube/api";
import { KubeDialRelay, KubeProxyRelay } from "../../src/kube/relays";
import { NAMESPACE_CLUSTER_LABEL, NAMESPACE_OWNER_ANNOTATION, NAMESPACE_OWNER_PID_LABEL, sweepClusterNamespaces } from "../../src/kube/namespaces";
import { poll } from "../../src/util/poll";
import { selfIdentity } from "../../src/util/process-alive";
import { type ControlPlane, FAKE_NODE, startControlPlane } from "../kube/control-plane";

let cp: ControlPlane;

beforeAll(async () => {
  cp = await startControlPlane({ kwok: true });
}, 3_600_000);

afterAll(async () => {
  await cp?.stop();
}, 60_000);

type PodState = { name: string; phase: string | null; ready: boolean; node: string | null };
type NamespaceState = { exists: boolean; labels: Record<string, string>; terminating: boolean };
const namespace = (name: string) => cp.client<NamespaceState>(["namespace", name]);
const podStates = (ns: string) => cp.client<PodState[]>(["pod-states", ns]);

/**
 * A 2x2 plan of cluster `id` applied, its 4 pods Ready (kwok), and the handle a successful start
 * returns on it (no start can succeed here: no pod runs m3).
 */
async function handleOnReadyPods(id: string): Promise<StartedKubernetesCluster> {
  const plan = planForTarget({ nodes: 2, rf: 2, tls: false, clusterId: id, target: { kubernetes: {} } });
  cp.client(["apply"], renderKubernetes(plan));
  await poll(() => (podStates(id).filter((p) => p.ready).length === 4 ? true : undefined), { timeoutMs: 30_000, intervalMs: 100, what: "the 4 pods Ready" });
  const api = await KubeApi.connect({ kubeconfig: cp.kubeconfig });
  return new StartedKubernetesCluster(plan, api, await KubeProxyRelay.start(api, id), new KubeDialRelay(api, id), [], { applyToReadyMs: 0, total: 0, phaseMs: {} });
}

describe("API layer: the kubernetes runner against kwok's simulated pods", () => {
  test("start() applies, every pod is scheduled and Ready, then the placement phase runs out of time naming the phase and the pods; the namespace is gone after", async () => {
    const id = "m3agg-run";
    const startTimeoutMs = 20_000;
    const begin = Date.now();
    const starting = M3AggregatorCluster.start({ nodes: 4, rf: 2, tls: false, clusterId: id, startTimeoutMs, target: { kubernetes: { kubeconfig: cp.kubeconfig } } });
    const outcome = starting.then(() => undefined, (error: unknown) => error); // observed below, never unhandled
    // Seen by the test's own client while the start waits: 6 pods (etcd, coordinator, 4 aggregators) on kwok's node, all Ready.
    const ready = await poll(() => {
      const pods = podStates(id);
      return pods.length === 6 && pods.every((p) => p.phase === "Running" && p.ready && p.node === FAKE_NODE) ? pods : undefined;
    }, { timeoutMs: startTimeoutMs, intervalMs: 100, what: "every pod of the cluster Running and Ready on the fake node", onTimeout: () => new Error(`pods: ${JSON.stringify(podStates(id))}\n${cp.logTail("kwok")}`) });
    const applyToPodsReadyMs = Date.now() - begin;
    expect(ready.map((p) => p.name).filter((n) => n.startsWith("m3aggregator-"))).toEqual(["m3aggregator-0", "m3aggregator-1", "m3aggregator-2", "m3aggregator-3"]);
    expect(namespace(id).labels[NAMESPACE_OWNER_PID_LABEL]).toBe(String(process.pid)); // the owner, for the sweep

    const error = await outcome;
    const failedAfterMs = Date.now() - begin;
    expect(error).toBeInstanceOf(KubernetesStartError);
    const e = error as KubernetesStartError;
    expect(e.phase).toBe("placement");
    expect(e.message).toContain('failed to start in phase "placement"');
    expect(e.message).toMatch(/deadline: the coordinator .* did not answer \/health through the API server's service proxy/);
    for (const pod of ["etcd-0", "m3aggregator-0", "m3aggregator-3"]) expect(e.message).toMatch(new RegExp(`pod ${pod}: Running on ${FAKE_NODE}.*Ready=True`));
    expect(e.message).toMatch(/pod m3coordinator-[a-z0-9]+-[a-z0-9]+: Running/);
    expect(e.teardown).toBe(`namespace ${id} deleted and gone`);
    // Teardown on the failure path, checked by the test's client: the namespace and its pods are gone.
    expect(namespace(id).exists).toBe(false);
    console.log(`${e.message}\n${JSON.stringify({ applyToPodsReadyMs, failedAfterMs, startTimeoutMs, phaseMs: e.phaseMs })}`);
  }, 120_000);

  test("a namespace that exists and is not a cluster's is refused in phase sweep and left alone", async () => {
    cp.client(["apply"], [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "not-ours" } }]);
    const error = await M3AggregatorCluster.start({ nodes: 2, rf: 2, tls: false, clusterId: "not-ours", startTimeoutMs: 10_000, target: { kubernetes: { kubeconfig: cp.kubeconfig } } })
      .then(() => undefined, (e: unknown) => e);
    expect((error as KubernetesStartError).phase).toBe("sweep");
    expect((error as Error).message).toMatch(/namespace not-ours exists already \(not an m3agg cluster's\)/);
    expect((error as KubernetesStartError).teardown).toMatch(/nothing was created/);
    expect(namespace("not-ours").exists).toBe(true);
  }, 60_000);

  test("the sweep deletes the namespace of a dead owner; an unlabelled one and one of a live owner stay", async () => {
    // A dead owner: a process of this host that ran and exited.
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => child.once("exit", resolve));
    const me = selfIdentity();
    const owned = (name: string, pid: number) => ({
      apiVersion: "v1", kind: "Namespace",
      metadata: { name, labels: { [NAMESPACE_CLUSTER_LABEL]: name, [NAMESPACE_OWNER_PID_LABEL]: String(pid) },
        annotations: { [NAMESPACE_OWNER_ANNOTATION]: JSON.stringify({ pid, start: "", host: me.host, ns: me.ns }) } },
    });
    cp.client(["apply"], [
      owned("dead-owner", child.pid as number),
      owned("live-owner", process.pid),
      // Our labels' look-alike without the owner label, and a plain one: neither is ever touched.
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "cluster-label-only", labels: { [NAMESPACE_CLUSTER_LABEL]: "x" } } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "plain" } },
    ]);
    const swept = await sweepClusterNamespaces(await KubeApi.connect({ kubeconfig: cp.kubeconfig }), 60_000);
    expect(swept).toEqual(["dead-owner"]);
    expect(namespace("dead-owner").exists).toBe(false);
    for (const kept of ["live-owner", "cluster-label-only", "plain"]) expect(namespace(kept)).toMatchObject({ exists: true, terminating: false });
  }, 90_000);

  test("stop() of a handle deletes its namespace and waits until it is gone, once; logs() names the pod the API server could not read", async () => {
    const id = "m3agg-stop";
    const cluster = await handleOnReadyPods(id);
    await expect(cluster.logs("m3aggregator-0", { tail: 5 })).rejects.toThrow(/logs of pod m3aggregator-0 in namespace m3agg-stop: the API server answered \d+/);
    await cluster.stop();
    expect(namespace(id).exists).toBe(false);
    await cluster.stop(); // idempotent
  }, 90_000);

  test("m3agg up --target kubernetes with a bad option is a usage error naming the rule", () => {
    const main = path.resolve(__dirname, "../../src/cli/main.ts");
    const m3agg = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", main, ...args], { encoding: "utf8", timeout: 60_000 });
    const basePort = m3agg(["up", "--target", "kubernetes", "--kubeconfig", cp.kubeconfig, "--base-port", "7000"]);
    expect(basePort.status).toBe(2);
    expect(basePort.stderr).toContain('basePort');
    expect(basePort.stderr).toContain('applies to target "docker" only');
    const sink = m3agg(["up", "--target", "kubernetes", "--backend", "sink"]);
    expect(sink.status).toBe(2);
    expect(sink.stderr).toMatch(/backend.*the pods cannot reach an in-process sink/);
    // The flag rules of `up --target` (without a process) are in test/unit/cli/up-target.test.ts.
  }, 120_000);
});

describe("API layer: the load Job runner (m3agg load --target kubernetes) against kwok", () => {
  type JobState = { name: string; labels: Record<string, string>; spec: Record<string, any> };
  const jobs = (ns: string) => cp.client<JobState[]>(["jobs", ns]);

  // kwok's pod-complete stage (test/kube/kwok-stages.yaml) ends a Job's pod Succeeded: the Job controller
  // then marks the Job Complete, so the runner's wait ends and it asks the pod log API, which has no kubelet
  // behind it here. What runs for real: apply, the wait on the Job's conditions, the pod lookup, the log
  // request, the error and the teardown.
  test("the Job is created with the rendered spec and its pod scheduled; the Job completes (kwok), the log read fails naming the Job, the pod and its phase; the Job and its pod are gone after", async () => {
    const id = "m3agg-load";
    const cluster = await handleOnReadyPods(id);
    try {
      const timeoutMs = 15_000;
      const begin = Date.now();
      const outcome = runLoadJob(cluster, { ids: 10, increments: 5, rate: 10, idPrefix: "kwok.load", timeoutMs }).then(() => undefined, (error: unknown) => error);
      // Seen by the test's own client while the runner waits: the Job as rendered for these parameters.
      const job = await poll(() => jobs(id)[0], { timeoutMs, intervalMs: 100, what: "the load Job" });
      expect(job.name).toMatch(/^m3agg-load-[a-z0-9]+$/);
      expect(job.spec.backoffLimit).toBe(0);
      expect(job.spec.activeDeadlineSeconds).toBe(Math.ceil(10 * 5 / 10) + 120);
      const pod = job.spec.template.spec;
      expect(pod.restartPolicy).toBe("Never");
      expect(pod.containers[0].image).toBe("m3agg-local/loadgen:v1.6.0");
      expect(pod.containers[0].args).toEqual([`-etcd=etcd-0.etcd.${id}.svc:2379`, "-env=default_env", "-zone=embedded", "-ids=10", "-increments=5", "-value=1", "-rate=10", "-id-prefix=kwok.load"]);
      const scheduled = await poll(() => podStates(id).find((p) => p.name.startsWith(`${job.name}-`) && p.node === FAKE_NODE), { timeoutMs, intervalMs: 100, what: `a pod of ${job.name} scheduled` });

      const error = await outcome;
      const endedMs = Date.now() - begin;
      expect(error).toBeInstanceOf(LoadJobError);
      const e = error as LoadJobError;
      expect(e.phase).toBe("log");
      expect(e.job).toBe(job.name);
      expect(e.message).toContain(`load job ${job.name} in namespace ${id} failed in phase "log"`);
      expect(e.message).toMatch(new RegExp(`logs of pod ${scheduled.name}: the API server answered 5\\d\\d`));
      expect(e.message).toMatch(new RegExp(`pod ${scheduled.name}: Succeeded on ${FAKE_NODE}.*loadgen terminated Completed`));
      expect(endedMs).toBeLessThan(timeoutMs); // it ended on the Job's condition, not on the deadline
      console.log(`${e.message}\n${JSON.stringify({ endedMs, timeoutMs })}`);
      expect(e.teardown).toBe(`job ${job.name} deleted and gone`);
      // Teardown, checked by the test's own client: no Job, no pod of it.
      expect(jobs(id)).toEqual([]);
      expect(podStates(id).filter((p) => p.name.startsWith(`${job.name}-`))).toEqual([]);
    } finally {
      await cluster.stop();
    }
  }, 120_000);

  test("a Job whose pod the namespace refuses (a ResourceQuota of 0 pods) never ends: the wait runs out of its deadline naming the Job and the controller's FailedCreate; the Job is gone after", async () => {
    const id = "m3agg-load-quota";
    const plan = planForTarget({ nodes: 2, rf: 2, tls: false, clusterId: id, target: { kubernetes: {} } });
    cp.client(["apply"], renderKubernetes(plan));
    cp.client(["apply"], [{ apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "no-more-pods", namespace: id }, spec: { hard: { pods: "0" } } }]);
    const api = await KubeApi.connect({ kubeconfig: cp.kubeconfig });
    const cluster = new StartedKubernetesCluster(plan, api, await KubeProxyRelay.start(api, id), new KubeDialRelay(api, id), [], { applyToReadyMs: 0, total: 0, phaseMs: {} });
    try {
      const timeoutMs = 8_000;
      const begin = Date.now();
      const error = await runLoadJob(cluster, { ids: 1, increments: 1, timeoutMs }).then(() => undefined, (e: unknown) => e);
      const waitedMs = Date.now() - begin;
      expect(error).toBeInstanceOf(LoadJobError);
      const e = error as LoadJobError;
      expect(e.phase).toBe("wait");
      expect(e.message).toMatch(new RegExp(`load job ${e.job} in namespace ${id} failed in phase "wait": deadline: job ${e.job} did not end within ${timeoutMs} ms`));
      expect(e.message).toMatch(new RegExp(`events of job ${e.job}: .*Warning FailedCreate.*(forbidden|exceeded quota)`));
      expect(waitedMs).toBeGreaterThanOrEqual(timeoutMs);
      expect(e.teardown).toBe(`job ${e.job} deleted and gone`);
      expect(jobs(id)).toEqual([]);
      console.log(`${e.message}\n${JSON.stringify({ waitedMs, timeoutMs })}`);
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
