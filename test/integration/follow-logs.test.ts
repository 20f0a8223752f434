/**
 * The log follower against a real engine: every line a container prints, across a kill and a
 * restart, arrives once and in order, even when this process sees the stop only after the new
 * run has printed (a busy event loop, a loaded CI machine). The oracle is the engine's own
 * complete record of the container's output (`docker logs`, read once at the end).
 */
import { spawnSync } from "node:child_process";
import { followContainerLogs } from "../../src/docker/follow-logs";
import { containerLogLines } from "../../src/docker/client";
import { poll } from "../../src/util/poll";
import type { LogLine } from "../../src/util/log-render";
import { LABEL_CLUSTER } from "../../src/model/labels";
import { ownerLabels } from "../../src/docker/labels";

const image = "m3agg-local/etcd:v3.6.13";
const ready = "ready to serve client requests";

function docker(...args: string[]): string {
  const result = spawnSync("docker", args, { encoding: "utf8", timeout: 60_000 });
  if (result.status !== 0) throw new Error(`docker ${args.join(" ")} exited ${String(result.status)}: ${result.stderr}`);
  return result.stdout.trim();
}

test("a kill and restart seen late: every line of both runs once, in the engine's order; a removal ends the follow", async () => {
  const name = `m3agg-follow-logs-${process.pid}-${Date.now()}`;
  // Labelled like the fixture's containers: .ci/run's leftover check sees it, the orphan sweep removes it.
  const labels = { [LABEL_CLUSTER]: name };
  const id = docker("run", "-d", "--name", name, "--network", "none", ...Object.entries({ ...labels, ...ownerLabels(labels) }).flatMap(([k, v]) => ["--label", `${k}=${v}`]), image);
  const lines: LogLine[] = [];
  const follower = await followContainerLogs([{ component: "etcd", id }], { onLine: (l) => lines.push(l) });
  try {
    await poll(() => (lines.some((l) => l.raw.includes(ready)) ? true : undefined), { timeoutMs: 30_000, what: "the first run's ready line, followed" });
    // Kill, start again, and wait until the second run is ready, all while this process's event
    // loop is blocked (spawnSync): the follower can only see the stop after the new run printed.
    const shell = `docker kill ${name} >/dev/null && docker start ${name} >/dev/null && ` +
      `for i in $(seq 300); do [ "$(docker logs ${name} 2>&1 | grep -c '${ready}')" -ge 2 ] && exit 0; sleep 0.1; done; exit 1`;
    expect(spawnSync("sh", ["-c", shell], { timeout: 60_000 }).status).toBe(0);

    const record = await poll(async () => {
      const all = await containerLogLines(id);
      return all.filter((l) => l.includes(ready)).length === 2 && lines.length >= all.length ? all : undefined;
    }, { timeoutMs: 30_000, what: "the second run's lines, followed" });
    expect(lines.map((l) => l.raw)).toEqual(record);

    // A removed container ends its follow by itself: done resolves, without stop().
    docker("rm", "-f", id);
    await expect(follower.done).resolves.toBeUndefined();
  } finally {
    await follower.stop();
    spawnSync("docker", ["rm", "-f", id]);
  }
}, 120_000);
