/**
 * API layer: a real Kubernetes control plane on 127.0.0.1 (kube-apiserver and
 * kube-controller-manager v1.37.2 built from the Go module proxy by images/build-kube.sh, cached by
 * input hash; the project's own etcd binary, copied out of its image). No kubelet: pods are created,
 * admitted and named by the real API server and controllers, but never run.
 * - server-side apply (@kubernetes/client-node) of the rendered 4x2 TLS cluster;
 * - Pod Security admission: the namespace enforces `restricted`; the StatefulSets' pods are admitted,
 *   a host-network variant of the aggregator pod is refused;
 * - StatefulSet pod names: the controller names the aggregators' pods as the placement's instance ids.
 * Cold, the build takes many minutes (README "Beyond one machine"); warm it is a hash check.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { planForTarget } from "../../src/cluster/target-plan";
import { renderKubernetes } from "../../src/targets/kubernetes";
import type { TlsFiles } from "../../src/targets/workloads";
import { defaultM3Version, versionProfile } from "../../src/model/versions";
import { poll } from "../../src/util/poll";

const ROOT = path.resolve(__dirname, "../..");
const CLIENT = path.join(ROOT, "test/kube/kube-client.mjs");
const FAKE_TLS: TlsFiles = { ca: "CA\n", serverCert: "SERVER\n", serverKey: "SERVER-KEY\n", clientCert: "CLIENT\n", clientKey: "CLIENT-KEY\n" };
const TOKEN = `m3agg-${Math.random().toString(36).slice(2)}`;

let dir: string;
let kubeconfig: string;
const processes: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function run(name: string, file: string, args: string[]): void {
  const log = fs.openSync(path.join(dir, `${name}.log`), "w");
  const child = spawn(file, args, { stdio: ["ignore", log, log] });
  processes.push(child);
}

function client<T>(args: string[], input?: unknown): T {
  const out = execFileSync(process.execPath, [CLIENT, ...args], { input: input === undefined ? "" : JSON.stringify(input), cwd: ROOT });
  return JSON.parse(out.toString()) as T;
}

const logTail = (name: string) => fs.readFileSync(path.join(dir, `${name}.log`), "utf8").split("\n").slice(-15).join("\n");

beforeAll(async () => {
  const bin = execFileSync("bash", [path.join(ROOT, "images/build-kube.sh")], { stdio: ["ignore", "pipe", "inherit"] }).toString().trim().split("\n").pop() as string;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-kube-"));
  // The project's etcd: its binary, copied out of its image (a container created and removed here).
  const etcdImage = versionProfile(defaultM3Version()).localImages.etcd;
  const holder = `m3agg-kube-etcd-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  execFileSync("docker", ["create", "--name", holder, etcdImage], { stdio: "ignore" });
  try {
    execFileSync("docker", ["cp", `${holder}:/usr/local/bin/etcd`, path.join(dir, "etcd")]);
  } finally {
    execFileSync("docker", ["rm", holder], { stdio: "ignore" });
  }
  execFileSync("openssl", ["genrsa", "-out", path.join(dir, "sa.key"), "2048"], { stdio: "ignore" });
  execFileSync("openssl", ["rsa", "-in", path.join(dir, "sa.key"), "-pubout", "-out", path.join(dir, "sa.pub")], { stdio: "ignore" });
  fs.writeFileSync(path.join(dir, "tokens.csv"), `${TOKEN},admin,admin,system:masters\n`);
  const [etcdClient, etcdPeer, apiPort, cmPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  run("etcd", path.join(dir, "etcd"), [
    "--name", "kube", "--data-dir", path.join(dir, "etcd-data"),
    "--listen-client-urls", `http://127.0.0.1:${etcdClient}`, "--advertise-client-urls", `http://127.0.0.1:${etcdClient}`,
    "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`,
    "--initial-cluster", `kube=http://127.0.0.1:${etcdPeer}`, "--log-level", "warn",
  ]);
  run("kube-apiserver", path.join(bin, "kube-apiserver"), [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
    // The reconciler refuses a loopback address for the `kubernetes` Service's endpoints; nothing here needs them.
    "--endpoint-reconciler-type=none", `--secure-port=${apiPort}`, `--cert-dir=${path.join(dir, "certs")}`,
    "--service-account-issuer=https://kubernetes.default.svc", `--service-account-key-file=${path.join(dir, "sa.pub")}`,
    `--service-account-signing-key-file=${path.join(dir, "sa.key")}`, "--service-cluster-ip-range=10.0.0.0/24",
    "--authorization-mode=AlwaysAllow", `--token-auth-file=${path.join(dir, "tokens.csv")}`,
  ]);
  kubeconfig = path.join(dir, "kubeconfig");
  fs.writeFileSync(kubeconfig, [
    "apiVersion: v1", "kind: Config", "current-context: local",
    "clusters: [{ name: local, cluster: { server: 'https://127.0.0.1:" + apiPort + "', insecure-skip-tls-verify: true } }]",
    `users: [{ name: admin, user: { token: ${TOKEN} } }]`,
    "contexts: [{ name: local, context: { cluster: local, user: admin } }]", "",
  ].join("\n"));
  // /readyz of the API server (its certificate is self-signed, made by itself: not verified, on loopback only).
  const readyz = () => new Promise<boolean>((resolve) => {
    https.get({ host: "127.0.0.1", port: apiPort, path: "/readyz", headers: { authorization: `Bearer ${TOKEN}` }, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on("error", () => resolve(false));
  });
  await poll(async () => ((await readyz()) ? true : undefined), { timeoutMs: 120_000, intervalMs: 500, what: "kube-apiserver /readyz", onTimeout: () => new Error(`kube-apiserver not ready:\n${logTail("kube-apiserver")}`) });
  run("kube-controller-manager", path.join(bin, "kube-controller-manager"), [
    `--kubeconfig=${kubeconfig}`, "--bind-address=127.0.0.1", `--secure-port=${cmPort}`,
    `--service-account-private-key-file=${path.join(dir, "sa.key")}`, "--controllers=*", "--leader-elect=false",
  ]);
}, 3_600_000);

afterAll(async () => {
  // Our own children, by handle: SIGTERM, then SIGKILL for one still shutting down after 3 s.
  const exited = (p: ChildProcess) => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => p.once("exit", () => resolve())));
  for (const p of [...processes].reverse()) p.kill("SIGTERM");
  await Promise.race([Promise.all(processes.map(exited)), new Promise((resolve) => setTimeout(resolve, 3_000))]);
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  await Promise.all(processes.map(exited));
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

const plan = planForTarget({ nodes: 4, rf: 2, clusterId: "m3agg-api", target: { kubernetes: {} } });
const objects = renderKubernetes(plan, FAKE_TLS);

describe("API layer: a real kube-apiserver and controller-manager (no kubelet)", () => {
  test("server-side apply of the rendered 4x2 TLS cluster: every object accepted", () => {
    const results = client<Array<{ kind: string; name: string; error: string | null }>>(["apply", kubeconfig], objects);
    expect(results.filter((r) => r.error !== null)).toEqual([]);
    expect(results.map((r) => `${r.kind}/${r.name}`)).toEqual(objects.map((o) => `${o.kind}/${o.metadata?.name}`));
  });

  test("the StatefulSet controller names the aggregators' pods as the placement instance ids, admitted under restricted", async () => {
    const pods = await poll(() => {
      const names = client<string[]>(["pods", kubeconfig, "m3agg-api"]);
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
    await poll(() => (client<{ error: string | null }>(["create-pod", kubeconfig], pod("admitted", {})).error === null ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 500, what: "the rendered pod admitted" });
    const refused = client<{ error: string | null }>(["create-pod", kubeconfig], pod("host-network", { hostNetwork: true }));
    expect(refused.error).toMatch(/violates PodSecurity \\?"restricted:latest\\?": host namespaces \(hostNetwork=true\)/);
  });
});
