/**
 * The lifecycle under faults, on real clusters: a test runner that gives up on beforeAll, a
 * deadline that runs out while containers start, the same clusterId from two processes, and
 * `m3agg up | cat` interrupted with Ctrl-C (SIGINT to the whole process group), once and twice.
 * Each checks what is left by asking Docker and the file system, not the fixture's bookkeeping.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { ClusterStartError } from "../../src/cluster/errors";
import { containersWithLabel } from "../../src/docker/client";
import { LABEL_CLUSTER, LABEL_RYUK_SESSION } from "../../src/model/labels";
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { StartTimeoutError } from "../../src/lifecycle/budget";
import { acquireLock, lockDir } from "../../src/util/file-lock";
import { listReservations } from "../../src/ports";
import { clusterDirOf } from "../../src/lifecycle/cluster-dir";
import { poll } from "../../src/util/poll";
import { clusterContainers, uniqueClusterId } from "./helpers";

const childScript = path.join(__dirname, "child-start.ts");
const cli = path.resolve(__dirname, "../../src/cli/main.ts");

/** Everything of cluster `id` that could outlive it: containers, port reservations, cluster folder, lock files. */
async function leftovers(id: string): Promise<{ containers: string[]; ports: number[]; dir: boolean; locks: string[] }> {
  const locks = fs.existsSync(lockDir()) ? fs.readdirSync(lockDir()).filter((f) => f.startsWith(`cluster-${id}~`)) : [];
  return {
    containers: await clusterContainers(id),
    ports: listReservations().filter((r) => r.cluster === id).map((r) => r.port),
    dir: fs.existsSync(clusterDirOf(id)),
    locks,
  };
}
const NOTHING = { containers: [], ports: [], dir: false, locks: [] };

/** Processes still in process group `pgid`. */
function groupMembers(pgid: number): number[] {
  const ps = spawnSync("ps", ["-o", "pid=", "-g", String(pgid)], { encoding: "utf8" });
  return (ps.stdout ?? "").split("\n").map((l) => Number(l.trim())).filter((p) => p > 0);
}

/** Command lines of the processes in process group `pgid`. */
function groupCommands(pgid: number): string[] {
  const ps = spawnSync("ps", ["-o", "args=", "-g", String(pgid)], { encoding: "utf8" });
  return (ps.stdout ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
}

/** Lines of a stream, as they come. */
function lines(stream: NodeJS.ReadableStream): string[] {
  const seen: string[] = [];
  readline.createInterface({ input: stream }).on("line", (line) => seen.push(line));
  return seen;
}

describe("lifecycle", () => {
  test("a runner that gives up on beforeAll mid-start: afterAll aborts the start, which removes all it brought up", async () => {
    const clusterId = uniqueClusterId("hook");
    let before!: () => Promise<void>;
    let after!: () => Promise<void>;
    // A runner's two hooks, run by hand so the test decides when beforeAll "times out".
    const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2, clusterId, tls: "enforced" }, {
      beforeAll: (fn) => void (before = fn),
      afterAll: (fn) => void (after = fn),
    });
    const hook = before().then(() => "resolved", (error: Error) => error);
    // The runner gives up once containers are being started (its timeout would fire any time).
    await poll(async () => ((await clusterContainers(clusterId)).length > 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 20, what: "a first container" });
    const t0 = Date.now();
    await after();
    const afterAllMs = Date.now() - t0;
    const outcome = await hook;
    expect(outcome).toBeInstanceOf(ClusterStartError);
    expect((outcome as Error).message).toContain("the test runner's beforeAll hook gave up");
    expect((outcome as Error).message).toMatch(/teardown removed everything it had started: [1-9]\d* containers?, \d+ port reservations?, its cluster folder/);
    expect(() => m3.cluster).toThrow("is not started");
    expect(await leftovers(clusterId)).toEqual(NOTHING);
    console.log(`afterAll after a given-up beforeAll: ${afterAllMs} ms until nothing was left`);
  }, 120_000);

  test("startTimeoutMs covers the lock wait and the start: it runs out mid-start, the start fails at its deadline and leaves nothing", async () => {
    const options = { nodes: 2, rf: 2, reuse: true, electionTtlSeconds: 13, startTimeoutMs: 4_000 };
    const fixture = new M3AggregatorCluster(options);
    const clusterId = fixture.options.clusterId;
    // A kept cluster of these options left by an earlier run would be attached to at once: none may exist.
    await M3AggregatorCluster.remove(clusterId);
    // Another process decides about the same kept cluster for 3.8 s of the 4 s budget: what is left (200 ms)
    // is less than any start takes (a 2x2 is ready in about 1 s with the tuned election intervals).
    const release = await acquireLock(`reuse-${fixture.options.reuseKey}`, 1_000);
    setTimeout(release, 3_800);
    const t0 = Date.now();
    let failedAt: number | undefined;
    const error = await new M3AggregatorCluster({ ...options, onProgress: (e) => { if (e.state === "failed") failedAt ??= Date.now() - t0; } })
      .start().catch((e: unknown) => e);
    const rejectedAt = Date.now() - t0;
    if (!(error instanceof ClusterStartError)) await M3AggregatorCluster.remove(clusterId); // it started (and was kept): leave nothing
    expect(error).toBeInstanceOf(ClusterStartError);
    expect((error as ClusterStartError).cause).toBeInstanceOf(StartTimeoutError);
    expect(failedAt).toBeGreaterThanOrEqual(3_900);
    expect(failedAt).toBeLessThan(4_000 + 2_000); // a timer, on a busy shared machine; before: 3 × 180 s + lock waits
    expect(await leftovers(clusterId)).toEqual(NOTHING);
    console.log(`startTimeoutMs=4000 with a 3.8 s lock wait: phase ${(error as ClusterStartError).phase} failed at ${failedAt} ms, rejected (torn down) at ${rejectedAt} ms`);
  }, 60_000);

  test("the same clusterId from two processes: the second fails fast, the first's containers, ports and cluster folder are untouched", async () => {
    const clusterId = uniqueClusterId("twice");
    const first = spawn(process.execPath, ["--import", "tsx", childScript, JSON.stringify({ nodes: 2, rf: 2, clusterId, tls: "enforced" })], {
      env: { ...process.env, M3AGG_CHILD_HOLD: "1" }, stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const firstOut = lines(first.stdout!);
      await poll(() => (firstOut.length > 0 ? true : undefined), { timeoutMs: 90_000, what: "the first start" });
      expect(JSON.parse(firstOut[0]!)).toEqual({ clusterId });
      const snapshot = async () => ({
        containers: (await containersWithLabel(LABEL_CLUSTER, clusterId)).map((c) => `${c.id}:${c.state}`).sort(),
        ports: listReservations().filter((r) => r.cluster === clusterId).map((r) => `${r.port}:${r.pid}`).sort(),
        dir: fs.readdirSync(clusterDirOf(clusterId)).sort().map((f) => `${f}:${fs.statSync(path.join(clusterDirOf(clusterId), f)).mtimeMs}`),
      });
      const before = await snapshot();
      expect(before.containers).toHaveLength(4);
      expect(before.containers.every((c) => c.endsWith(":running"))).toBe(true);
      expect(before.dir.length).toBeGreaterThan(0);
      // This process's own clusters carry Testcontainers' session label (kept ones do not: reuse.test.ts).
      expect((await containersWithLabel(LABEL_CLUSTER, clusterId)).every((c) => LABEL_RYUK_SESSION in c.labels)).toBe(true);

      const second = spawnSync(process.execPath, ["--import", "tsx", childScript, JSON.stringify({ nodes: 2, rf: 2, clusterId, tls: "enforced" })], {
        encoding: "utf8", timeout: 60_000,
      });
      expect(second.status).toBe(1);
      const refusal = JSON.parse(second.stdout.trim().split("\n").pop()!);
      expect(refusal.name).toBe("ClusterIdInUseError");
      expect(refusal.error).toContain(`cluster id ${clusterId} is in use by pid ${first.pid}`);
      expect(refusal.ms).toBeLessThan(2_000);
      expect(await snapshot()).toEqual(before);
      console.log(`duplicate clusterId refused in ${refusal.ms} ms (from start() to the rejection)`);

      first.kill("SIGTERM");
      await new Promise((resolve) => (first.exitCode !== null || first.signalCode !== null ? resolve(undefined) : first.once("exit", resolve)));
      expect(await leftovers(clusterId)).toEqual(NOTHING);
    } finally {
      first.kill("SIGKILL");
    }
  }, 180_000);

  describe("`m3agg up | cat`, Ctrl-C (SIGINT to the process group)", () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-lifecycle-cli-"));
    afterAll(() => fs.rmSync(stateDir, { recursive: true, force: true }));

    /** `m3agg up … | <consumer>` in a process group of its own, as a shell runs a pipeline; resolves once the cluster runs. */
    async function upPiped(clusterId: string, consumer = "cat"): Promise<{ shell: ChildProcess; stderr: string[] }> {
      const shell = spawn("sh", ["-c", `"${process.execPath}" --import tsx "${cli}" up --nodes 2 --rf 2 --cluster-id ${clusterId} --tls enforced ${consumer === "cat" ? "2>&1 " : ""}| ${consumer}`], {
        detached: true, // its own process group, like a terminal's foreground job
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, M3AGG_STATE_DIR: stateDir, M3AGG_SKIP_BUILD: "1" },
      });
      const stdout = lines(shell.stdout!);
      const stderr = lines(shell.stderr!);
      await (poll(() => {
        if (shell.exitCode !== null) throw new Error(`up exited with ${shell.exitCode}: ${stderr.join("\n")}`);
        // cat passes every line on; head -1 only the first, then exits and later writes fail with EPIPE
        return consumer === "cat" ? (stdout.some((l) => l.includes("running; Ctrl-C removes it")) ? true : undefined)
          : (stdout.length > 0 && !groupCommands(shell.pid!).some((c) => c.startsWith("head")) ? true : undefined);
      }, { timeoutMs: 90_000, what: `m3agg up | ${consumer} to report the cluster running` }).catch(async (error: unknown) => {
        await cleanUp(shell, clusterId);
        throw error;
      }));
      return { shell, stderr };
    }

    /** On a failed assertion: ends whatever of the pipeline still runs and removes the cluster, so a failing test leaks nothing. */
    async function cleanUp(shell: ChildProcess, clusterId: string): Promise<void> {
      if (groupMembers(shell.pid!).length > 0) process.kill(-shell.pid!, "SIGKILL");
      const left = await leftovers(clusterId);
      if (left.containers.length > 0 || left.ports.length > 0 || left.dir) {
        spawnSync(process.execPath, ["--import", "tsx", cli, "down", "--cluster", clusterId], { timeout: 60_000, env: { ...process.env, M3AGG_STATE_DIR: stateDir } });
      }
    }

    // `2>&1 | cat`: stderr goes into the pipe too, so once Ctrl-C ended cat, every progress line of
    // the teardown fails with EPIPE (as with `npm run up 2>&1 | tee up.log`); `| head -1` closes stdout at once.
    for (const consumer of ["cat", "head -1"]) {
      test(`| ${consumer}, one Ctrl-C: the teardown runs to its end though the reader is gone (EPIPE); nothing is left`, async () => {
        const clusterId = uniqueClusterId("pipe");
        const { shell, stderr } = await upPiped(clusterId, consumer);
        try {
          expect((await leftovers(clusterId)).containers).toHaveLength(4);
          expect(groupCommands(shell.pid!).filter((c) => c.includes("main.ts up"))).toHaveLength(1); // alive, though its stdout may be closed
          const t0 = Date.now();
          process.kill(-shell.pid!, "SIGINT");
          await poll(() => (groupMembers(shell.pid!).length === 0 ? true : undefined), { timeoutMs: 60_000, what: "every process of the pipeline to exit" });
          const exitMs = Date.now() - t0;
          expect(await leftovers(clusterId)).toEqual(NOTHING);
          if (consumer !== "cat") expect(stderr.join("\n")).toMatch(/removed in \d+ ms/); // (with 2>&1 it went into the closed pipe)
          console.log(`up | ${consumer}, one Ctrl-C: every process gone, nothing left after ${exitMs} ms`);
        } finally {
          await cleanUp(shell, clusterId);
        }
      }, 150_000);
    }

    test("Ctrl-C while the start is under way: the start is aborted and removes what it brought up; nothing is left", async () => {
      const clusterId = uniqueClusterId("midstart");
      const shell = spawn("sh", ["-c", `"${process.execPath}" --import tsx "${cli}" up --nodes 2 --rf 2 --cluster-id ${clusterId} --tls enforced | cat`], {
        detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, M3AGG_STATE_DIR: stateDir, M3AGG_SKIP_BUILD: "1" },
      });
      const stderr = lines(shell.stderr!);
      try {
        // Interrupt once the first container exists (the others are being created and started).
        await poll(async () => ((await clusterContainers(clusterId)).length > 0 ? true : undefined), { timeoutMs: 90_000, intervalMs: 20, what: "a first container" });
        process.kill(-shell.pid!, "SIGINT");
        await poll(() => (groupMembers(shell.pid!).length === 0 ? true : undefined), { timeoutMs: 60_000, what: "every process of the pipeline to exit" });
        expect(stderr.join("\n")).toContain("the start was aborted: interrupted by a signal");
        expect(await leftovers(clusterId)).toEqual(NOTHING);
      } finally {
        await cleanUp(shell, clusterId);
      }
    }, 150_000);

    test("a second Ctrl-C exits at once, printing what is left and the command that removes it (which does)", async () => {
      const clusterId = uniqueClusterId("twice-c");
      const { shell, stderr } = await upPiped(clusterId, "head -1");
      try {
        process.kill(-shell.pid!, "SIGINT");
        await poll(() => (stderr.some((l) => l.includes("again exits at once")) ? true : undefined), { timeoutMs: 10_000, intervalMs: 5, what: "the teardown to begin" });
        const t0 = Date.now();
        process.kill(-shell.pid!, "SIGINT");
        await poll(() => (groupMembers(shell.pid!).length === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 5, what: "the process to exit" });
        const exitMs = Date.now() - t0;
        const said = stderr.join("\n");
        expect(said).toContain("SIGINT again: exiting now, teardown not finished");
        expect(said).toContain(`cluster ${clusterId} left: containers:`);
        expect(said).toContain(`remove it with: npx m3agg down --cluster ${clusterId}`);
        console.log(`second Ctrl-C to exit: ${exitMs} ms; it said:\n${said.split("\n").filter((l) => l.includes("left:") || l.includes("remove it")).join("\n")}`);
        // What it printed removes what is left.
        const down = spawnSync(process.execPath, ["--import", "tsx", cli, "down", "--cluster", clusterId], { encoding: "utf8", timeout: 60_000, env: { ...process.env, M3AGG_STATE_DIR: stateDir } });
        expect(down.status).toBe(0);
        expect(await leftovers(clusterId)).toEqual(NOTHING);
      } finally {
        await cleanUp(shell, clusterId);
      }
    }, 150_000);
  });
});
