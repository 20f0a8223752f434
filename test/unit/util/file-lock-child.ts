/**
 * Child of file-lock.test.ts: waits until argv[3] (epoch ms) so the children race, then argv[4] times
 * takes the lock "race" in folder argv[2], and inside it checks that the guard file argv[5] is
 * empty, writes its pid, yields, and empties it again. Prints "overlap" when it found another
 * owner's pid inside the lock, else "ok".
 */
import * as fs from "node:fs";
import { acquireLock } from "../../../src/util/file-lock";

async function main(): Promise<void> {
  const [dir, startAt, rounds, guard] = process.argv.slice(2) as [string, string, string, string];
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
  let overlap = false;
  for (let i = 0; i < Number(rounds); i++) {
    const release = await acquireLock("race", 60_000, dir);
    if (fs.readFileSync(guard, "utf8") !== "") overlap = true;
    fs.writeFileSync(guard, String(process.pid));
    await new Promise((resolve) => setImmediate(resolve));
    if (fs.readFileSync(guard, "utf8") !== String(process.pid)) overlap = true;
    fs.writeFileSync(guard, "");
    release();
  }
  process.stdout.write(overlap ? "overlap\n" : "ok\n");
}

void main();
