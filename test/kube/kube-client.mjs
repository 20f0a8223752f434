// The API layer's client: @kubernetes/client-node (ESM only, so jest runs this file as a child
// process). One JSON document in on stdin, one out on stdout.
//   node kube-client.mjs apply KUBECONFIG        objects → [{ kind, name, error }] (server-side apply, field manager m3agg)
//   node kube-client.mjs create-pod KUBECONFIG   a Pod → { error }                 (a plain create: admission decides)
//   node kube-client.mjs pods KUBECONFIG NS      (no input) → pod names in NS
//   node kube-client.mjs pod-states KUBECONFIG NS (no input) → [{ name, phase, ready, node }] in NS
//   node kube-client.mjs node KUBECONFIG NAME    (no input) → { ready }
//   node kube-client.mjs namespace KUBECONFIG NAME (no input) → { exists, labels, terminating }
//   node kube-client.mjs jobs KUBECONFIG NS       (no input) → [{ name, labels, spec }] in NS
import * as k8s from "@kubernetes/client-node";

const [command, kubeconfig, namespace] = process.argv.slice(2);
const name = namespace;
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
let input = "";
if (command === "apply" || command === "create-pod") for await (const chunk of process.stdin) input += chunk;
const message = (error) => String(error?.body ?? error?.message ?? error);

if (command === "apply") {
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const results = [];
  for (const object of JSON.parse(input)) {
    try {
      await client.patch(object, undefined, undefined, "m3agg", true, k8s.PatchStrategy.ServerSideApply);
      results.push({ kind: object.kind, name: object.metadata.name, error: null });
    } catch (error) {
      results.push({ kind: object.kind, name: object.metadata.name, error: message(error) });
    }
  }
  process.stdout.write(JSON.stringify(results));
} else if (command === "create-pod") {
  const pod = JSON.parse(input);
  try {
    await kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({ namespace: pod.metadata.namespace, body: pod });
    process.stdout.write(JSON.stringify({ error: null }));
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: message(error) }));
  }
} else if (command === "pods") {
  const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace });
  process.stdout.write(JSON.stringify(list.items.map((p) => p.metadata.name).sort()));
} else if (command === "pod-states") {
  const list = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace });
  process.stdout.write(JSON.stringify(list.items.map((p) => ({
    name: p.metadata.name,
    phase: p.status?.phase ?? null,
    ready: (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
    node: p.spec?.nodeName ?? null,
  })).sort((a, b) => a.name.localeCompare(b.name))));
} else if (command === "node") {
  try {
    const node = await kc.makeApiClient(k8s.CoreV1Api).readNode({ name });
    process.stdout.write(JSON.stringify({ ready: (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") }));
  } catch {
    process.stdout.write(JSON.stringify({ ready: false }));
  }
} else if (command === "namespace") {
  try {
    const ns = await kc.makeApiClient(k8s.CoreV1Api).readNamespace({ name });
    process.stdout.write(JSON.stringify({ exists: true, labels: ns.metadata.labels ?? {}, terminating: ns.metadata.deletionTimestamp !== undefined }));
  } catch (error) {
    if (error?.code !== 404) throw error;
    process.stdout.write(JSON.stringify({ exists: false, labels: {}, terminating: false }));
  }
} else if (command === "jobs") {
  const list = await kc.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace });
  process.stdout.write(JSON.stringify(list.items.map((j) => ({ name: j.metadata.name, labels: j.metadata.labels ?? {}, spec: j.spec }))));
} else {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
