import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLock, LockHeldError, lockOwner, sweepLocks, tryLock } from "../../../src/util/file-lock";
import { ownerAlive, processStartTime, selfIdentity } from "../../../src/util/process-alive";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-lock-test-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A pid that no longer runs. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout as unknown as number;
}

/** Writes a lock file the way another owner would have. */
function foreignEntry(name: string, owner: object): string {
  const file = path.join(dir, `${name}~${Math.random().toString(16).slice(2)}.lock`);
  fs.writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), ...owner }));
  return file;
}

describe("process identity", () => {
  test("field 22 of /proc/<pid>/stat, read after the command name (which may hold ') ')", () => {
    const stat = fs.readFileSync("/proc/self/stat", "utf8"); // this jest worker
    const own = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    expect(processStartTime(process.pid)).toBe(own); // 22nd field = index 19 after pid, comm and state
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
  });

  test("alive: this process; dead: a gone pid, or a live pid with another start time (reused); other hosts are not judged", () => {
    const me = selfIdentity();
    expect(ownerAlive(me)).toBe(true);
    expect(ownerAlive({ ...me, pid: Number(deadPid()) })).toBe(false);
    expect(ownerAlive({ ...me, start: String(Number(me.start) - 1) })).toBe(false); // same pid, earlier process
    expect(ownerAlive({ ...me, pid: Number(deadPid()), host: "another-host" })).toBe(true);
    expect(ownerAlive({ ...me, pid: Number(deadPid()), ns: "pid:[1]" })).toBe(true); // another pid namespace
  });
});

describe("file lock", () => {
  test("held: a second tryLock gets the owner (this very process counts too); released: it gets the lock", () => {
    const first = tryLock("x", dir);
    if (!("release" in first)) throw new Error("first tryLock failed");
    const second = tryLock("x", dir);
    expect("release" in second).toBe(false);
    expect(second).toMatchObject({ pid: process.pid, file: first.file });
    expect(fs.readdirSync(dir)).toEqual([path.basename(first.file)]); // the refused contender left nothing
    expect("release" in tryLock("x-other", dir)).toBe(true); // another name is another lock ("x~" is the prefix)
    first.release();
    const third = tryLock("x", dir);
    expect("release" in third).toBe(true);
  });

  test("a dead owner's file (gone pid, or reused pid with another start time) is taken over; a live one is waited for", async () => {
    const me = selfIdentity();
    const stale = foreignEntry("y", { ...me, pid: Number(deadPid()) });
    const reused = foreignEntry("y", { ...me, start: "1" });
    const release = await acquireLock("y", 1_000, dir);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(reused)).toBe(false);
    const t0 = Date.now();
    await expect(acquireLock("y", 300, dir)).rejects.toThrow(LockHeldError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    release();
  });

  test("an abort ends the wait with the signal's reason", async () => {
    const holder = tryLock("z", dir);
    const controller = new AbortController();
    const waiting = acquireLock("z", 60_000, dir, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("given up")), 50);
    await expect(waiting).rejects.toThrow("given up");
    if ("release" in holder) holder.release();
  });

  test("sweepLocks removes dead owners' files and temp files, never a live owner's", () => {
    const live = tryLock("w", dir);
    const dead = foreignEntry("v", { ...selfIdentity(), pid: Number(deadPid()) });
    fs.writeFileSync(path.join(dir, `.tmp-${deadPid()}-ab`), "{}");
    expect(sweepLocks(dir).map((f) => path.basename(f)).sort()).toEqual([path.basename(dead), expect.stringMatching(/^\.tmp-/)].sort());
    expect(lockOwner("w", dir)?.pid).toBe(process.pid);
    if ("release" in live) live.release();
    expect(lockOwner("w", dir)).toBeUndefined();
  });

  test("4 processes × 25 rounds racing for one lock: never two owners at once", async () => {
    const guard = path.join(dir, "guard");
    fs.writeFileSync(guard, "");
    const startAt = Date.now() + 1_500;
    const outputs = await Promise.all([0, 1, 2, 3].map(() => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "file-lock-child.ts"), dir, String(startAt), "25", guard],
        { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.once("exit", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}`))));
    })));
    expect(outputs).toEqual(["ok", "ok", "ok", "ok"]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".lock"))).toEqual([]);
  }, 60_000);
});
