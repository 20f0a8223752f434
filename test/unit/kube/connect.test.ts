import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KubeApi } from "../../../src/kube/api";
import { M3AggregatorCluster } from "../../../src/cluster/start";
import { KubernetesStartError } from "../../../src/cluster/kubernetes";

let dir: string;
let kubeconfig: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-kubeconfig-"));
  kubeconfig = path.join(dir, "config");
  // Port 1 on loopback: nothing listens there, so every request is refused at once.
  fs.writeFileSync(kubeconfig, [
    "apiVersion: v1", "kind: Config", "current-context: a",
    "clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true } }]",
    "users: [{ name: u, user: { token: t } }]",
    "contexts: [{ name: a, context: { cluster: c, user: u } }, { name: b, context: { cluster: c, user: u } }]", "",
  ].join("\n"));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the kubernetes target's connection", () => {
  test("a kubeconfig's context is used as given; an unknown one is refused naming the file and the contexts there are", async () => {
    const api = await KubeApi.connect({ kubeconfig, context: "b" });
    expect(api).toMatchObject({ server: "https://127.0.0.1:1", context: "b" });
    await expect(KubeApi.connect({ kubeconfig, context: "nope" })).rejects.toThrow(`kubeconfig ${kubeconfig} has no context "nope" (contexts: a, b)`);
    await expect(KubeApi.connect({ kubeconfig: path.join(dir, "missing") })).rejects.toThrow(`kubeconfig ${path.join(dir, "missing")}:`);
  });

  test("an API server that does not answer fails the start in phase sweep, before anything is created", async () => {
    const error = await M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId: "m3agg-unreachable", startTimeoutMs: 5_000, target: { kubernetes: { kubeconfig } } })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesStartError);
    const e = error as KubernetesStartError;
    expect(e.phase).toBe("sweep");
    expect(e.message).toMatch(/failed to start in phase "sweep": GET \/api\/v1\/namespaces\?labelSelector=.* on the API server failed: .*ECONNREFUSED 127\.0\.0\.1:1/);
    expect(e.teardown).toBe("nothing was created: the namespace was not touched");
    expect(e.pods).toBe("");
  });
});
