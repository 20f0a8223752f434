/**
 * A real Kubernetes control plane on 127.0.0.1 for the API test layer: the project's etcd binary
 * (images/build.sh's build of the etcd image, else copied out of the image), kube-apiserver and kube-controller-manager v1.37.2 built by
 * images/build-kube.sh (cached by input hash), and optionally kube-scheduler and kwok with one fake
 * node, so pods are scheduled and become Running/Ready with fake IPs (no containers run).
 *
 * kwok's pod and node IPs are in 127.77.0.0/16: the API server's proxy refuses loopback targets
 * ("address not allowed"), so nothing ever leaves 127.0.0.0/8, and a request to a pod through the
 * proxy fails at once instead of dialling an address that does not exist.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import { freePort } from "../integration/helpers";
import * as os from "node:os";
import * as path from "node:path";
import { defaultM3Version, versionProfile } from "../../src/model/versions";
import { poll } from "../../src/util/poll";

const ROOT = path.resolve(__dirname, "../..");
const CLIENT = path.join(ROOT, "test/kube/kube-client.mjs");

/** The fake node kwok manages (by its annotation). */
export const FAKE_NODE = "kwok-node-0";

export interface ControlPlane {
  dir: string;
  kubeconfig: string;
  /** The last lines a process wrote (for a test's error). */
  logTail(name: string): string;
  /** The test's own client (test/kube/kube-client.mjs, @kubernetes/client-node in a child process): independent of src/kube. */
  client<T>(args: string[], input?: unknown): T;
  /** Stops every process (SIGTERM, then SIGKILL after 3 s) and removes the directory. */
  stop(): Promise<void>;
}

/**
 * The project's etcd binary: the one images/build.sh built for the etcd image (its build directory),
 * else copied out of the image once per image id (a container created and removed here) and kept
 * next to the control-plane binaries; every Docker call has a deadline.
 */
function etcdBinary(bin: string): string {
  const profile = versionProfile(defaultM3Version());
  const buildDir = process.env.M3AGG_BUILD_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "m3agg/build");
  const built = path.join(buildDir, `etcd-${profile.localImages.etcd.split(":").pop() ?? ""}`, "etcd"); // the image's tag is its etcd version
  if (fs.existsSync(built)) return built;
  const image = profile.localImages.etcd;
  const docker = (args: string[]) => execFileSync("docker", args, { timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] }).toString().trim();
  const id = docker(["image", "inspect", "-f", "{{.Id}}", image]).replace(/^sha256:/, "").slice(0, 16);
  const cached = path.join(path.dirname(bin), `etcd-${id}`);
  if (fs.existsSync(cached)) return cached;
  const holder = `m3agg-kube-etcd-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  docker(["create", "--name", holder, image]);
  try {
    docker(["cp", `${holder}:/usr/local/bin/etcd`, `${cached}.${process.pid}`]);
    fs.renameSync(`${cached}.${process.pid}`, cached);
  } finally {
    docker(["rm", holder]);
  }
  return cached;
}

/** Starts the control plane; with `kwok`, also the scheduler, kwok and its node, and waits until that node is Ready. */
export async function startControlPlane(options: { kwok: boolean }): Promise<ControlPlane> {
  const bin = execFileSync("bash", [path.join(ROOT, "images/build-kube.sh")], { stdio: ["ignore", "pipe", "inherit"] }).toString().trim().split("\n").pop() as string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-kube-"));
  const processes: ChildProcess[] = [];
  const token = `m3agg-${Math.random().toString(36).slice(2)}`;
  const run = (name: string, file: string, args: string[], env?: NodeJS.ProcessEnv): void => {
    const log = fs.openSync(path.join(dir, `${name}.log`), "w");
    processes.push(spawn(file, args, { stdio: ["ignore", log, log], env: env ?? process.env }));
  };
  const logTail = (name: string) => {
    try {
      return fs.readFileSync(path.join(dir, `${name}.log`), "utf8").split("\n").slice(-15).join("\n");
    } catch {
      return "(no log)";
    }
  };
  const kubeconfig = path.join(dir, "kubeconfig");
  const client = <T>(args: string[], input?: unknown): T => {
    const [command, ...rest] = args;
    const out = execFileSync(process.execPath, [CLIENT, command as string, kubeconfig, ...rest], { input: input === undefined ? "" : JSON.stringify(input), cwd: ROOT });
    return JSON.parse(out.toString()) as T;
  };
  const stop = async () => {
    const exited = (p: ChildProcess) => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => p.once("exit", () => resolve())));
    for (const p of [...processes].reverse()) p.kill("SIGTERM");
    await Promise.race([Promise.all(processes.map(exited)), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    await Promise.all(processes.map(exited));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const etcd = etcdBinary(bin);
    execFileSync("openssl", ["genrsa", "-out", path.join(dir, "sa.key"), "2048"], { stdio: "ignore" });
    execFileSync("openssl", ["rsa", "-in", path.join(dir, "sa.key"), "-pubout", "-out", path.join(dir, "sa.pub")], { stdio: "ignore" });
    fs.writeFileSync(path.join(dir, "tokens.csv"), `${token},admin,admin,system:masters\n`);
    const [etcdClient, etcdPeer, apiPort, cmPort, schedulerPort, kwokPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    run("etcd", etcd, [
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
    fs.writeFileSync(kubeconfig, [
      "apiVersion: v1", "kind: Config", "current-context: local",
      "clusters: [{ name: local, cluster: { server: 'https://127.0.0.1:" + apiPort + "', insecure-skip-tls-verify: true } }]",
      `users: [{ name: admin, user: { token: ${token} } }]`,
      "contexts: [{ name: local, context: { cluster: local, user: admin } }]", "",
    ].join("\n"));
    // /readyz of the API server (its certificate is self-signed, made by itself: not verified, on loopback only).
    const readyz = () => new Promise<boolean>((resolve) => {
      https.get({ host: "127.0.0.1", port: apiPort, path: "/readyz", headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      }).on("error", () => resolve(false));
    });
    await poll(async () => ((await readyz()) ? true : undefined), { timeoutMs: 120_000, intervalMs: 250, what: "kube-apiserver /readyz", onTimeout: () => new Error(`kube-apiserver not ready:\n${logTail("kube-apiserver")}`) });
    run("kube-controller-manager", path.join(bin, "kube-controller-manager"), [
      `--kubeconfig=${kubeconfig}`, "--bind-address=127.0.0.1", `--secure-port=${cmPort}`,
      `--service-account-private-key-file=${path.join(dir, "sa.key")}`, "--controllers=*", "--leader-elect=false",
    ]);
    if (options.kwok) {
      run("kube-scheduler", path.join(bin, "kube-scheduler"), [
        `--kubeconfig=${kubeconfig}`, "--bind-address=127.0.0.1", `--secure-port=${schedulerPort}`, "--leader-elect=false",
      ]);
      // kwok's own "fast" stages (node Ready with a heartbeat; pods Running/Ready at once, deleted at
      // once), from test/kube/kwok-stages.yaml; its HOME is this directory, so no ~/.kwok config applies.
      run("kwok", path.join(bin, "kwok"), [
        `--kubeconfig=${kubeconfig}`, "-c", path.join(ROOT, "test/kube/kwok-stages.yaml"), "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--cidr=127.77.0.0/16", "--node-ip=127.77.255.1", `--server-address=127.0.0.1:${kwokPort}`,
      ], { ...process.env, HOME: dir });
      const resources = { cpu: "32", memory: "256Gi", pods: "110" };
      client(["apply"], [{
        apiVersion: "v1", kind: "Node",
        metadata: { name: FAKE_NODE, annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
          labels: { "kubernetes.io/hostname": FAKE_NODE, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", type: "kwok" } },
        status: { allocatable: resources, capacity: resources },
      }]);
      const kwok = processes[processes.length - 1] as ChildProcess;
      await poll(() => {
        if (kwok.exitCode !== null) throw new Error(`kwok exited with ${kwok.exitCode}:\n${logTail("kwok")}`);
        return client<{ ready: boolean }>(["node", FAKE_NODE]).ready ? true : undefined;
      }, {
        timeoutMs: 60_000, intervalMs: 250, what: `kwok's node ${FAKE_NODE} Ready`,
        onTimeout: () => new Error(`node ${FAKE_NODE} not Ready:\n${logTail("kwok")}`),
      });
    }
    return { dir, kubeconfig, logTail, client, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
