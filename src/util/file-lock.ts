/**
 * A cross-process lock without check-then-act races (Testcontainers' reuse lock is in-process
 * only, its issue #1172). Each contender owns a file of its own, `<name>~<pid>-<random>.lock`,
 * made complete (written to a temp file, then renamed into place, so it never exists half
 * written). A contender holds the lock when, after its file exists, it finds no other live
 * contender's file; otherwise it removes its own and tries again later.
 *
 * Why this is safe: if A and B both held it, each listed the folder after making its own file
 * and did not see the other's; but whichever made its file first had it in place when the other
 * listed. Files of dead owners (pid gone, or the pid now belongs to a process that started at
 * another time) are removed by name, and a name is never reused, so a removal can only ever hit
 * the dead owner's own file: no window in which a live owner's lock is removed.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ownerAlive, processAlive, type ProcessIdentity, selfIdentity } from "./process-alive";

/** The default folder of the locks: `<os.tmpdir()>/m3agg-locks`. */
export function lockDir(): string {
  return path.join(os.tmpdir(), "m3agg-locks");
}

/** The owner of a lock file: a process and when it took the lock. */
export interface LockOwner extends ProcessIdentity {
  /** ISO time the file was made. */
  at: string;
  /** The lock file. */
  file: string;
}

/** The lock is held by a live owner (see {@link tryLock}). */
export class LockHeldError extends Error {
  override readonly name = "LockHeldError";
  constructor(readonly lock: string, readonly holder: LockOwner, waitedMs?: number) {
    super(`lock ${lock} is held by pid ${holder.pid} on ${holder.host} (since ${holder.at}, file ${holder.file})` +
      (waitedMs === undefined ? "" : `; waited ${waitedMs} ms`));
  }
}

/** A held lock: `release()` removes this owner's file (idempotent). */
export interface HeldLock {
  readonly file: string;
  release(): void;
}

const held = new Set<string>();
let exitHook = false;

/** Files of locks still held when the process exits are removed (the owner is gone either way). */
function trackHeld(file: string): void {
  held.add(file);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const f of held) fs.rmSync(f, { force: true });
  });
}

function entriesOf(name: string, folder: string): string[] {
  try {
    return fs.readdirSync(folder).filter((f) => f.startsWith(`${name}~`) && f.endsWith(".lock")).map((f) => path.join(folder, f));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** The owner record of a lock file; undefined when the file is gone. An unreadable record counts as a live unknown owner. */
function readOwner(file: string): LockOwner | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return { ...(JSON.parse(text) as Omit<LockOwner, "file">), file };
  } catch {
    return { pid: 0, start: "", host: "?", ns: "", at: "", file };
  }
}

/** The live owners' files of lock `name` other than `except`; dead owners' files are removed on the way. */
function liveOwners(name: string, folder: string, except?: string): LockOwner[] {
  const live: LockOwner[] = [];
  for (const file of entriesOf(name, folder)) {
    if (file === except) continue;
    const owner = readOwner(file);
    if (owner === undefined) continue;
    if (ownerAlive(owner)) live.push(owner);
    else fs.rmSync(file, { force: true }); // its own unique name: only the dead owner's file goes
  }
  return live;
}

/** Makes this process's file for lock `name`, complete (temp file renamed into place). */
function makeEntry(name: string, folder: string): string {
  fs.mkdirSync(folder, { recursive: true });
  const me = selfIdentity();
  const suffix = `${process.pid}-${randomBytes(6).toString("hex")}`;
  const tmp = path.join(folder, `.tmp-${suffix}`);
  const file = path.join(folder, `${name}~${suffix}.lock`);
  fs.writeFileSync(tmp, `${JSON.stringify({ ...me, at: new Date().toISOString() })}\n`);
  fs.renameSync(tmp, file);
  return file;
}

/**
 * Takes lock `name` if no live owner holds it (one attempt, no waiting). Resolves with the held
 * lock, or with the live owner that holds it. Two contenders at the same instant may both be
 * refused (never both admitted); {@link acquireLock} retries.
 */
export function tryLock(name: string, folder = lockDir()): HeldLock | LockOwner {
  if (name.includes("~") || name.includes("/")) throw new Error(`lock name ${JSON.stringify(name)} may not contain '~' or '/'`);
  const file = makeEntry(name, folder);
  const others = liveOwners(name, folder, file);
  if (others.length > 0) {
    fs.rmSync(file, { force: true });
    return others.sort((a, b) => a.at.localeCompare(b.at))[0] as LockOwner;
  }
  trackHeld(file);
  return {
    file,
    release: () => {
      held.delete(file);
      fs.rmSync(file, { force: true });
    },
  };
}

/** The live owner of lock `name`, if any (dead owners' files are removed). */
export function lockOwner(name: string, folder = lockDir()): LockOwner | undefined {
  return liveOwners(name, folder)[0];
}

/** Options of {@link acquireLock}. */
export interface AcquireOptions {
  /** Give up when this aborts (its reason is thrown). */
  signal?: AbortSignal;
}

/**
 * Waits for lock `name` (up to `timeoutMs`); resolves with a release function. A dead owner's
 * lock is taken over. `folder`: where the lock lives (default {@link lockDir}), e.g. next to the
 * files it guards. Rejects with a {@link LockHeldError} naming the owner after `timeoutMs`.
 */
export async function acquireLock(name: string, timeoutMs = 300_000, folder = lockDir(), options: AcquireOptions = {}): Promise<() => void> {
  const begin = Date.now();
  for (;;) {
    options.signal?.throwIfAborted();
    const result = tryLock(name, folder);
    if ("release" in result) return result.release;
    const waited = Date.now() - begin;
    if (waited >= timeoutMs) throw new LockHeldError(`${name} (in ${folder})`, result, waited);
    const pause = Math.min(timeoutMs - waited, 20 + Math.floor(Math.random() * 80)); // random: two contenders do not meet again
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, pause);
      function done(): void {
        options.signal?.removeEventListener("abort", onAbort);
        resolve();
      }
      function onAbort(): void {
        clearTimeout(timer);
        reject(options.signal?.reason);
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * Removes the files of dead owners (and temp files of dead processes) from the lock folder;
 * resolves with the files removed. Live owners' files are never touched.
 */
export function sweepLocks(folder = lockDir()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const file = path.join(folder, name);
    if (name.endsWith(".lock") && name.includes("~")) {
      const owner = readOwner(file);
      if (owner !== undefined && !ownerAlive(owner)) {
        fs.rmSync(file, { force: true });
        removed.push(file);
      }
    } else {
      const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
      if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) {
        fs.rmSync(file, { force: true });
        removed.push(file);
      }
    }
  }
  return removed;
}
