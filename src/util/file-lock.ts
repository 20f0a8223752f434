/**
 * A cross-process lock (a directory created atomically in the temp folder,
 * holding the owner's pid). Testcontainers' reuse lock is in-process only
 * (its issue #1172), so two jest workers could both start the same cluster.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { processAlive } from "./process-alive";

const LOCK_DIR = path.join(os.tmpdir(), "m3agg-locks");

/**
 * Waits for the lock `name` (up to `timeoutMs`); resolves with a release function. A dead owner's lock is taken over.
 * `folder`: where the lock lives (default `<os.tmpdir()>/m3agg-locks`), e.g. next to the files it guards.
 */
export async function acquireLock(name: string, timeoutMs = 300_000, folder = LOCK_DIR): Promise<() => void> {
  fs.mkdirSync(folder, { recursive: true });
  const dir = path.join(folder, `${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "pid"), String(process.pid));
      return () => fs.rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(path.join(dir, "pid"), "utf8") || NaN);
    } catch (error) {
      // ENOENT: released since our mkdir failed (try again at once), or taken but its pid not written yet
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      if (!fs.existsSync(dir)) continue;
      if (Date.now() - (fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 5_000) {
        fs.rmSync(dir, { recursive: true, force: true }); // its owner died between mkdir and writing its pid
        continue;
      }
    }
    if (Number.isInteger(owner) && !processAlive(owner)) {
      fs.rmSync(dir, { recursive: true, force: true }); // its owner died holding it
      continue;
    }
    if (Date.now() > deadline) throw new Error(`lock ${dir} still held by pid ${owner} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
