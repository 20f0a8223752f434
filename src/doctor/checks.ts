/**
 * `m3agg doctor`: why a cluster will (not) start on this machine, one check at a time.
 * Each check answers with a status, what it found and, when it is not ok, how to fix it.
 * Checks only read, except the probe containers of the host-network and freezer checks
 * (labelled like a cluster's, removed at once; the orphan sweep takes them if this dies)
 * and `fix`, which runs the package's own sweep code.
 */
import { spawn, spawnSync } from "node:child_process";
import { buffer } from "node:stream/consumers";
import type Dockerode from "dockerode";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { containersWithLabel, dockerClient } from "../docker/client";
import { LABEL_CLUSTER, LABEL_OWNER_HOST, LABEL_OWNER_PID } from "../model/labels";
import { dockerEndpoint, portRangeSetting } from "../model/environment";
import { ownerLabels, ownerOf } from "../docker/labels";
import { ownerAlive, type ProcessIdentity } from "../util/process-alive";
import { sweepOrphans, sweepReservations } from "../lifecycle/sweep";
import { clusterLockName } from "../lifecycle/claim";
import { lockDir, lockOwner, sweepLocks } from "../util/file-lock";
import { type M3Version, supportedM3Versions, versionProfile } from "../model/versions";
import { allocatablePortRanges, ephemeralPortRange, listReservations, ownerProcessDead, type PortRange } from "../ports";
import { CLUSTER_DIRS_ROOT } from "../lifecycle/cluster-dir";
import { isSupportedNode, MIN_NODE } from "../util/node-support";
import { imageInputs, type ImageInput } from "../m3/image-inputs";

/** ok: fine; warn: works, with a limit; fail: a cluster will not start (or a feature will not work). */
export type CheckStatus = "ok" | "warn" | "fail";

/** One finding. */
export interface CheckResult {
  /** Stable id, e.g. "docker.engine". */
  id: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** How to fix it (when status is not ok). */
  fix?: string;
  /** Facts for --json. */
  data?: Record<string, unknown>;
}

/** Docker engine facts the other checks need. */
export interface EngineFacts {
  endpoint: string;
  serverVersion: string;
  os: string;
  arch: string;
  operatingSystem: string;
  rootless: boolean;
  podman: boolean;
  dockerDesktop: boolean;
  cgroupVersion: string | undefined;
}

/** A cluster folder without containers counts as left over only after this (longer than the default start timeout). */
const CLUSTER_DIR_GRACE_MS = 10 * 60_000;


/** Docker's arch names from Go's/Node's (what images are built for). */
export function dockerPlatform(os: string, arch: string): string {
  const a = ({ x86_64: "amd64", aarch64: "arm64", x64: "amd64" } as Record<string, string>)[arch] ?? arch;
  return `${os}/${a}`;
}

export async function checkDocker(): Promise<{ result: CheckResult; engine?: EngineFacts }> {
  const endpoint = dockerEndpoint();
  try {
    const client = await dockerClient();
    const info = (await client.container.dockerode.info()) as Record<string, unknown>;
    const version = (await client.container.dockerode.version()) as { Version?: string; Components?: Array<{ Name?: string }> };
    const security = (info.SecurityOptions as string[] | undefined) ?? [];
    const operatingSystem = String(info.OperatingSystem ?? "");
    const engine: EngineFacts = {
      endpoint,
      serverVersion: String(info.ServerVersion ?? version.Version ?? "?"),
      os: String(info.OSType ?? "linux"),
      arch: String(info.Architecture ?? "?"),
      operatingSystem,
      rootless: security.some((s) => s.includes("rootless")),
      podman: (version.Components ?? []).some((c) => /podman/i.test(c.Name ?? "")) || /podman/i.test(operatingSystem),
      dockerDesktop: /docker desktop/i.test(operatingSystem),
      cgroupVersion: info.CgroupVersion === undefined ? undefined : String(info.CgroupVersion),
    };
    const kind = engine.podman ? "Podman" : engine.dockerDesktop ? "Docker Desktop" : "Docker Engine";
    const notes = [engine.rootless ? "rootless" : "rootful", `platform ${dockerPlatform(engine.os, engine.arch)}`,
      `cgroup v${engine.cgroupVersion ?? "?"}`];
    return {
      engine,
      result: {
        id: "docker.engine", status: "ok",
        detail: `${kind} ${engine.serverVersion} at ${endpoint} (${engine.operatingSystem}; ${notes.join(", ")})`,
        data: { ...engine, platform: dockerPlatform(engine.os, engine.arch) },
      },
    };
  } catch (error) {
    return {
      result: {
        id: "docker.engine", status: "fail", detail: `no Docker engine answered at ${endpoint}: ${(error as Error).message.split("\n")[0]}`,
        fix: "start Docker (`bash scripts/ensure-docker.sh` on Debian/Ubuntu), or point DOCKER_HOST at the engine's socket " +
          "(rootless Docker: unix://$XDG_RUNTIME_DIR/docker.sock; Podman: `systemctl --user start podman.socket` and " +
          "DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock)",
      },
    };
  }
}

/** Docker Desktop's settings files (settings-store.json from 4.35, settings.json before). */
function desktopSettingsFiles(): string[] {
  const home = os.homedir();
  const dirs = process.platform === "darwin" ? [path.join(home, "Library", "Group Containers", "group.com.docker")]
    : process.platform === "win32" ? [path.join(process.env.APPDATA ?? path.join(home, "AppData", "Roaming"), "Docker")]
      : [path.join(home, ".docker", "desktop")];
  return dirs.flatMap((d) => ["settings-store.json", "settings.json"].map((f) => path.join(d, f)));
}

/**
 * Docker Desktop's host-networking setting, as its settings file has it: the keys that name host
 * networking and their values, or undefined when no settings file is readable. (The key is not
 * documented; the live probe is what decides the check.)
 */
export function desktopHostNetworkingSetting(files = desktopSettingsFiles()): { file: string; keys: Record<string, unknown> } | undefined {
  for (const file of files) {
    try {
      const settings = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
      const keys = Object.fromEntries(Object.entries(settings).filter(([k]) => /host.?network/i.test(k)));
      return { file, keys };
    } catch {
      // not there or not JSON: try the next name
    }
  }
  return undefined;
}

/** A check that needs a probe container, reported failed with the reason it could not run (no engine, or no image). */
function notChecked(id: string, engine: EngineFacts | undefined): CheckResult {
  return engine === undefined
    ? { id, status: "fail", detail: "not checked: no Docker engine", fix: "fix docker.engine first" }
    : { id, status: "fail", detail: "not checked: no local etcd image to probe with", fix: "build the images (`npm run images`), then run doctor again" };
}

/**
 * Removes a probe container. A failure is said, not dropped: it becomes a note for the check's
 * detail (the container carries this process's owner labels, so the orphan sweep removes it later).
 */
async function removeProbe(remove: () => Promise<unknown>): Promise<string> {
  try {
    await remove();
    return "";
  } catch (error) {
    return `; its probe container was not removed (${(error as Error).message.split("\n")[0]}): \`m3agg doctor --fix\` removes it once this process has ended`;
  }
}

/** The first local etcd image the engine has (doctor's probe containers run it). */
async function probeImage(): Promise<string | undefined> {
  for (const version of supportedM3Versions()) {
    const image = versionProfile(version).localImages.etcd;
    if (spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status === 0) return image;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

/**
 * Starts etcd in the host network on 127.0.0.1 and checks that this process reaches it on loopback
 * (what every cluster needs), then pauses and unpauses it (the cgroup freezer `node.pause()` needs).
 */
export async function checkHostNetworkAndFreezer(engine: EngineFacts | undefined, image: string | undefined): Promise<CheckResult[]> {
  if (engine === undefined || image === undefined) return ["docker.host-network", "docker.freezer"].map((id) => notChecked(id, engine));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const labels = { [LABEL_CLUSTER]: `doctor-${process.pid}` };
  let started: StartedTestContainer | undefined;
  const results: CheckResult[] = [];
  const desktopHint = engine.dockerDesktop
    ? "Docker Desktop: Settings → Resources → Network → \"Enable host networking\" (4.34 or later, needs a sign-in), then restart Docker Desktop"
    : "the fixture runs every container in the host network: use a Linux engine (or Docker Desktop 4.34+ with host networking on)";
  try {
    const url = `http://127.0.0.1:${clientPort}`;
    started = await new GenericContainer(image)
      .withNetworkMode("host")
      .withLabels({ ...labels, ...ownerLabels(labels) })
      .withTmpFs({ "/var/lib/etcd": "rw" })
      .withEntrypoint(["/usr/local/bin/etcd"])
      .withCommand(["--data-dir", "/var/lib/etcd", "--listen-client-urls", url, "--advertise-client-urls", url,
        "--listen-peer-urls", `http://127.0.0.1:${peerPort}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
        "--initial-cluster", `default=http://127.0.0.1:${peerPort}`, "--log-level", "error"])
      .withStartupTimeout(20_000)
      .start();
    const deadline = Date.now() + 10_000;
    let reached = false;
    while (!reached && Date.now() < deadline) {
      reached = await httpOk(`${url}/health`);
      if (!reached) await new Promise((r) => setTimeout(r, 50));
    }
    const setting = engine.dockerDesktop ? desktopHostNetworkingSetting() : undefined;
    const settingText = setting === undefined ? "" : `; Docker Desktop setting in ${setting.file}: ${Object.keys(setting.keys).length === 0 ? "no host-networking key (off)" : JSON.stringify(setting.keys)}`;
    results.push(reached
      ? { id: "docker.host-network", status: "ok", detail: `a container in the host network listens on 127.0.0.1:${clientPort} and this process reaches it${settingText}`,
        ...(engine.dockerDesktop ? { data: { dockerDesktopSetting: setting, note: "Docker Desktop's host networking is TCP/UDP over IPv4 only; containers cannot reach a listener of this process (the in-process sink)" } } : {}) }
      : { id: "docker.host-network", status: "fail", detail: `a container in the host network listened on 127.0.0.1:${clientPort}, but this process could not reach it within 10 s${settingText}`, fix: desktopHint });
    const container = (await dockerClient()).container.dockerode.getContainer(started.getId());
    try {
      await container.pause();
      const paused = (await container.inspect()).State.Paused;
      await container.unpause();
      results.push(paused
        ? { id: "docker.freezer", status: "ok", detail: "pause/unpause work (cgroup freezer): node.pause() and failure injection will" }
        : { id: "docker.freezer", status: "fail", detail: "pause returned but the container is not paused", fix: "enable the cgroup freezer (cgroup v2, or the v1 freezer controller)" });
    } catch (error) {
      results.push({ id: "docker.freezer", status: "fail", detail: `pause failed: ${(error as Error).message}`,
        fix: engine.rootless ? "rootless engines need cgroup v2 with systemd delegation (https://rootlesscontaine.rs/getting-started/common/cgroup2/); only node.pause() needs it" : "enable the cgroup freezer (cgroup v2, or the v1 freezer controller); only node.pause() needs it" });
    }
  } catch (error) {
    results.push({ id: "docker.host-network", status: "fail", detail: `a host-network container did not start: ${(error as Error).message.split("\n")[0]}`, fix: desktopHint });
    results.push({ id: "docker.freezer", status: "fail", detail: "not checked: the probe container did not start", fix: "fix docker.host-network first" });
  } finally {
    const probe = started;
    const note = probe === undefined ? "" : await removeProbe(() => probe.stop({ remove: true }));
    for (const result of results) result.detail += note;
  }
  return results;
}

/**
 * A container in the host network dials a listener of this process on 127.0.0.1: what the sink
 * backend needs (the aggregators flush to the sink inside the test process).
 */
export async function checkContainerToHost(engine: EngineFacts | undefined): Promise<CheckResult> {
  const id = "docker.container-to-host";
  if (engine === undefined) return { id, status: "fail", detail: "not checked: no Docker engine", fix: "fix docker.engine first" };
  const image = supportedM3Versions().map((v) => versionProfile(v).localImages.m3aggregator)
    .find((i) => spawnSync("docker", ["image", "inspect", i], { stdio: "ignore" }).status === 0);
  if (image === undefined) return { id, status: "fail", detail: "not checked: no local m3aggregator image (its m3agg-probe dials)", fix: "build the images (`npm run images`)" };
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn("docker", ["run", "--rm", "--network", "host", "--label", `${LABEL_CLUSTER}=doctor-${process.pid}`,
        "--label", `${LABEL_OWNER_PID}=${process.pid}`, "--label", `${LABEL_OWNER_HOST}=${os.hostname()}`,
        "--entrypoint", "/bin/m3agg-probe", image, `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => { out += d.toString(); });
      child.stderr.on("data", (d: Buffer) => { out += d.toString(); });
      child.once("error", (error) => resolve({ code: null, out: error.message }));
      child.once("close", (code) => resolve({ code, out }));
    });
    return result.code === 0
      ? { id, status: "ok", detail: `a host-network container reaches this process on 127.0.0.1:${port} (the sink backend works)` }
      : { id, status: engine.dockerDesktop ? "warn" : "fail", detail: `a host-network container could not reach 127.0.0.1:${port} of this process: ${result.out.trim().split("\n")[0]}`,
        fix: engine.dockerDesktop ? "on Docker Desktop containers cannot reach listeners of the host's processes on loopback: use backend \"blackhole\" or \"logging\", or a Linux engine for the sink"
          : "the engine runs on another machine or network namespace (DOCKER_HOST?): the sink backend needs the engine on this machine" };
  } finally {
    server.close();
  }
}

export function checkPorts(): CheckResult {
  const ephemeral = ephemeralPortRange();
  let ranges: PortRange[];
  try {
    ranges = allocatablePortRanges();
  } catch (error) {
    return { id: "ports.pool", status: "fail", detail: (error as Error).message, fix: "set M3AGG_PORT_RANGE to FROM-TO outside the ephemeral range, e.g. 20000-29999" };
  }
  const size = ranges.reduce((n, r) => n + r.to - r.from + 1, 0);
  const text = ranges.map((r) => `${r.from}-${r.to}`).join(", ");
  const detail = `pool ${text} (${size} ports${portRangeSetting() !== undefined ? ", M3AGG_PORT_RANGE" : ""}); kernel ephemeral range ${ephemeral.from}-${ephemeral.to}, left out`;
  const perCluster = 3 * 4 + 6; // a 4-node cluster: 3 per node, etcd 2, coordinator 2, sink and spare
  const data = { ranges, size, ephemeral };
  if (size < perCluster) {
    return { id: "ports.pool", status: "fail", detail: `${detail}: too few for one 4-node cluster (${perCluster})`, data,
      fix: "widen M3AGG_PORT_RANGE, or narrow the kernel's ephemeral range (sysctl net.ipv4.ip_local_port_range)" };
  }
  return { id: "ports.pool", status: size < perCluster * 20 ? "warn" : "ok", detail, data,
    ...(size < perCluster * 20 ? { fix: "a small pool limits parallel clusters: widen M3AGG_PORT_RANGE" } : {}) };
}

export function checkNode(version = process.versions.node): CheckResult {
  return isSupportedNode(version)
    ? { id: "node", status: "ok", detail: `Node ${version}` }
    : { id: "node", status: "fail", detail: `Node ${version} is older than ${MIN_NODE.major}.${MIN_NODE.minor}`, fix: "use Node 22.22+ or 24 (the package's scripts/ensure-node.sh fetches Node 24 from npm)" };
}

/** The Go the image modules need: their highest `go` directive (e.g. 1.26.0). */
export function requiredGo(dir = path.resolve(__dirname, "../../images/go")): string {
  const versions = listDir(dir).map((m) => /^go (\d+\.\d+(?:\.\d+)?)$/m.exec(readText(path.join(dir, m, "go.mod")))?.[1])
    .filter((v): v is string => v !== undefined);
  return versions.sort(compareVersions).at(-1) ?? "1.0";
}

export function compareVersions(a: string, b: string): number {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

export function checkGo(need = requiredGo()): CheckResult {
  const fetched = "images/build.sh fetches the Go toolchain from the Go module proxy (verified against the checksum database) into ~/.cache/m3agg/go when it builds";
  const result = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8" });
  if (result.status !== 0) return { id: "go", status: "ok", detail: `no Go on PATH: ${fetched}` };
  const version = result.stdout.trim().replace(/^go/, "");
  return compareVersions(version, need) >= 0
    ? { id: "go", status: "ok", detail: `go${version} (the images need ${need})` }
    : { id: "go", status: "ok", detail: `go${version} on PATH is older than the ${need} the images need: ${fetched}` };
}

/** Each local image per m3 version: present, and built from the inputs this package has now. */
export function checkImages(inputs: ImageInput[] = imageInputs()): CheckResult[] {
  const byVersion = new Map<M3Version, ImageInput[]>();
  for (const input of inputs) byVersion.set(input.m3Version, [...(byVersion.get(input.m3Version) ?? []), input]);
  return [...byVersion.entries()].map(([version, list]) => {
    const states = list.map((i) => {
      const have = spawnSync("docker", ["image", "inspect", "-f", '{{index .Config.Labels "org.m3agg.inputs"}}', i.tag], { encoding: "utf8" });
      const label = have.status === 0 ? have.stdout.trim() : undefined;
      return { ...i, state: label === undefined ? "missing" : label === i.hash ? "up to date" : "stale" };
    });
    const bad = states.filter((s) => s.state !== "up to date");
    const detail = states.map((s) => `${s.tag} ${s.state}`).join(", ");
    return bad.length === 0
      ? { id: `images.${version}`, status: "ok" as const, detail, data: { images: states } }
      : { id: `images.${version}`, status: (version === list[0]?.defaultVersion ? "fail" : "warn") as CheckStatus, detail, data: { images: states },
        fix: `npm run images -- --m3-version ${version} (or \`m3agg images --m3-version ${version}\`, or --load DIR from a cache)` };
  });
}

/** Leftovers of fixture processes that died: containers, port reservations, locks, cluster folders. */
export interface Leftovers {
  orphanContainers: string[];
  staleReservations: number[];
  staleLocks: string[];
  staleClusterDirs: string[];
}

export async function findLeftovers(dockerUp: boolean): Promise<Leftovers> {
  // The same judgements as the sweep code (lifecycle/sweep.ts, util/file-lock.ts), without removing.
  const owned = dockerUp ? await containersWithLabel(LABEL_OWNER_PID) : [];
  const orphanContainers = owned.filter((c) => !ownerAlive(ownerOf(c.labels))).map((c) => c.name);
  const withContainers = new Set(dockerUp ? (await containersWithLabel(LABEL_CLUSTER)).map((c) => c.labels[LABEL_CLUSTER] ?? "") : []);
  const staleReservations = listReservations().filter(ownerProcessDead).map((r) => r.port);
  const locks = lockDir();
  const staleLocks = listDir(locks).filter((name) => {
    if (!name.endsWith(".lock") || !name.includes("~")) return false;
    try {
      return !ownerAlive(JSON.parse(readText(path.join(locks, name))) as Partial<ProcessIdentity>);
    } catch {
      return false;
    }
  });
  // A cluster folder without containers of its cluster and without a live start holding its id lock, older
  // than any start takes (only judged when the engine answered).
  const oldEnough = (id: string) => Date.now() - (fs.statSync(path.join(CLUSTER_DIRS_ROOT, id), { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > CLUSTER_DIR_GRACE_MS;
  const staleClusterDirs = dockerUp
    ? listDir(CLUSTER_DIRS_ROOT).filter((id) => !withContainers.has(id) && lockOwner(clusterLockName(id)) === undefined && oldEnough(id)) : [];
  return { orphanContainers, staleReservations, staleLocks, staleClusterDirs };
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

export function leftoverResult(found: Leftovers): CheckResult {
  const parts = [
    [found.orphanContainers.length, "orphan containers"],
    [found.staleReservations.length, "stale port reservations"],
    [found.staleLocks.length, "stale locks"],
    [found.staleClusterDirs.length, "folders of removed clusters"],
  ] as const;
  const total = parts.reduce((n, [count]) => n + count, 0);
  return total === 0
    ? { id: "leftovers", status: "ok", detail: "no leftovers of dead fixture processes", data: { ...found } }
    : { id: "leftovers", status: "warn", detail: parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`).join(", "), data: { ...found },
      fix: "`m3agg doctor --fix` sweeps them (the next cluster start sweeps containers and reservations too)" };
}

/** Sweeps leftovers with the package's own sweep code (what every start runs); says what went. */
export async function fixLeftovers(found: Leftovers, dockerUp: boolean): Promise<string[]> {
  const done: string[] = [];
  if (dockerUp) {
    const clusters = await sweepOrphans(); // containers, reservations, locks, cluster folders
    if (clusters.length > 0) done.push(`removed containers of ${clusters.join(", ")}`);
  } else {
    await sweepReservations();
    sweepLocks();
  }
  const after = await findLeftovers(dockerUp);
  const gone = <T>(before: T[], now: T[]) => before.filter((x) => !now.includes(x));
  const ports = gone(found.staleReservations, after.staleReservations);
  if (ports.length > 0) done.push(`released ports ${ports.join(", ")}`);
  for (const name of gone(found.staleLocks, after.staleLocks)) done.push(`removed lock ${name}`);
  for (const id of gone(found.staleClusterDirs, after.staleClusterDirs)) done.push(`removed cluster folder ${id}`);
  return done;
}

/**
 * The engine sees this machine's temp folder: a file written under it, bind-mounted into a
 * created (never started) container, reads back the same through the engine. Clusters mount their
 * configs and certificates from their folder there ($TMPDIR/m3agg-clusters).
 */
export async function checkBindMount(engine: EngineFacts | undefined, image: string | undefined): Promise<CheckResult> {
  if (engine === undefined || image === undefined) return notChecked("docker.bind-mount", engine);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-doctor-"));
  const token = `m3agg doctor ${process.pid} ${Date.now()}`;
  fs.writeFileSync(path.join(dir, "probe.txt"), token);
  const fix = engine.dockerDesktop
    ? `Docker Desktop: Settings → Resources → File sharing: share ${os.tmpdir()} (or set TMPDIR to a shared folder)`
    : `the engine must run on this machine and see ${os.tmpdir()} (a remote DOCKER_HOST cannot; set TMPDIR to a folder it sees)`;
  const dockerode = (await dockerClient()).container.dockerode;
  let probe: Dockerode.Container | undefined;
  let result: CheckResult;
  try {
    const labels = { [LABEL_CLUSTER]: `doctor-${process.pid}` };
    probe = await dockerode.createContainer({
      Image: image, Entrypoint: ["/usr/local/bin/etcd"], Cmd: ["--version"], Labels: { ...labels, ...ownerLabels(labels) },
      HostConfig: { Binds: [`${dir}:/m3agg-probe:ro,z`], NetworkMode: "host" },
    });
    const tar = (await buffer(await probe.getArchive({ path: "/m3agg-probe/probe.txt" }))).toString("latin1");
    result = tar.includes(token)
      ? { id: "docker.bind-mount", status: "ok", detail: `a file under ${os.tmpdir()} mounted into a container reads back the same: clusters mount their configs from there` }
      : { id: "docker.bind-mount", status: "fail", detail: `a file under ${os.tmpdir()} mounted into a container reads back different content (the engine sees another file system)`, fix };
  } catch (error) {
    result = { id: "docker.bind-mount", status: "fail", detail: `mounting a file under ${os.tmpdir()} into a container failed: ${(error as Error).message.split("\n")[0]}`, fix };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const created = probe;
  const note = created === undefined ? "" : await removeProbe(() => created.remove({ force: true }));
  return { ...result, detail: result.detail + note };
}

/** Every check, in order. */
export async function runDoctor(options: { fix?: boolean } = {}): Promise<{ ok: boolean; checks: CheckResult[]; fixed: string[] }> {
  const checks: CheckResult[] = [checkNode(), checkGo()];
  const docker = await checkDocker();
  checks.push(docker.result);
  const image = docker.engine === undefined ? undefined : await probeImage(); // the probe containers' image, looked up once
  checks.push(...(await checkHostNetworkAndFreezer(docker.engine, image)));
  checks.push(await checkBindMount(docker.engine, image));
  checks.push(await checkContainerToHost(docker.engine));
  checks.push(checkPorts());
  if (docker.engine !== undefined) checks.push(...checkImages());
  let leftovers = await findLeftovers(docker.engine !== undefined);
  let fixed: string[] = [];
  if (options.fix === true) {
    fixed = await fixLeftovers(leftovers, docker.engine !== undefined);
    leftovers = await findLeftovers(docker.engine !== undefined);
  }
  checks.push(leftoverResult(leftovers));
  return { ok: checks.every((c) => c.status !== "fail"), checks, fixed };
}
