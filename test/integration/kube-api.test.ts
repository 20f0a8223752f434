/**
 * API layer: a real Kubernetes control plane on 127.0.0.1 (kube-apiserver and
 * kube-controller-manager v1.37.2 built from the Go module proxy by images/build-kube.sh, cached by
 * input hash; the project's own etcd binary, see test/kube/control-plane.ts). No kubelet: pods are created,
 * admitted and named by the real API server and controllers, but never run.
 * - server-side apply (@kubernetes/client-node) of the rendered 4x2 TLS cluster;
 * - Pod Security admission: the namespace enforces `restricted`; the StatefulSets' pods are admitted,
 *   a host-network variant of the aggregator pod is refused;
 * - StatefulSet pod names: the controller names the aggregators' pods as the placement's instance ids.
 * Cold, the build takes many minutes (README "Beyond one machine"); warm it is a hash check.
 */
import { planForTarget } from "../../src/cluster/target-plan";
import { renderKubernetes } from "../../src/targets/kubernetes";
import type { TlsFiles } from "../../src/targets/workloads";
import { poll } from "../../src/util/poll";
import { type ControlPlane, startControlPlane } from "../kube/control-plane";

const FAKE_TLS: TlsFiles = { ca: "CA\n", serverCert: "SERVER\n", serverKey: "SERVER-KEY\n", clientCert: "CLIENT\n", clientKey: "CLIENT-KEY\n" };

let cp: ControlPlane;
const client = <T>(args: string[], input?: unknown): T => cp.client<T>(args, input);
const logTail = (name: string) => cp.logTail(name);

beforeAll(async () => {
  cp = await startControlPlane({ kwok: false });
}, 3_600_000);

afterAll(async () => {
  await cp?.stop();
}, 60_000);

const plan = planForTarget({ nodes: 4, rf: 2, clusterId: "m3agg-api", target: { kubernetes: {} } });
const objects = renderKubernetes(plan, FAKE_TLS);

describe("API layer: a real kube-apiserver and controller-manager (no kubelet)", () => {
  test("server-side apply of the rendered 4x2 TLS cluster: every object accepted", () => {
    const results = client<Array<{ kind: string; name: string; error: string | null }>>(["apply"], objects);
    expect(results.filter((r) => r.error !== null)).toEqual([]);
    expect(results.map((r) => `${r.kind}/${r.name}`)).toEqual(objects.map((o) => `${o.kind}/${o.metadata?.name}`));
  });

  test("the StatefulSet controller names the aggregators' pods as the placement instance ids, admitted under restricted", async () => {
    const pods = await poll(() => {
      const names = client<string[]>(["pods", "m3agg-api"]);
      return names.filter((n) => n.startsWith("m3aggregator-")).length === 4 && names.includes("etcd-0") ? names : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: "the StatefulSets' pods", onTimeout: () => new Error(`no pods:\n${logTail("kube-controller-manager")}`) });
    expect(pods.filter((n) => n.startsWith("m3aggregator-"))).toEqual(plan.placement.instances.map((i) => i.id));
    expect(pods.some((n) => n.startsWith("m3coordinator-"))).toBe(true);
  });

  test("Pod Security admission refuses a host-network variant of the aggregator pod, and admits the rendered one", async () => {
    const sts = objects.find((o) => o.kind === "StatefulSet" && o.metadata?.name === "m3aggregator") as unknown as { spec: { template: { metadata: object; spec: Record<string, unknown> } } };
    const pod = (name: string, extra: Record<string, unknown>) => ({
      apiVersion: "v1", kind: "Pod", metadata: { ...sts.spec.template.metadata, name, namespace: "m3agg-api" }, spec: { ...sts.spec.template.spec, ...extra },
    });
    // The namespace's default ServiceAccount comes from the controller-manager.
    await poll(() => (client<{ error: string | null }>(["create-pod"], pod("admitted", {})).error === null ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 500, what: "the rendered pod admitted" });
    const refused = client<{ error: string | null }>(["create-pod"], pod("host-network", { hostNetwork: true }));
    expect(refused.error).toMatch(/violates PodSecurity \\?"restricted:latest\\?": host namespaces \(hostNetwork=true\)/);
  });
});
