/**
 * Teardown that never leaks: orphans of SIGKILLed processes (containers, port
 * reservations, cluster folder, lock file) are swept on the next start, live clusters of other processes are left alone, SIGTERM removes
 * a process's clusters, and many start/stop cycles leave nothing behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { lockDir } from "../../src/util/file-lock";
import { clusterDirOf } from "../../src/lifecycle/cluster-dir";
import * as readline from "node:readline";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { containersWithLabel } from "../../src/docker/client";
import { LABEL_CLUSTER } from "../../src/model/labels";
import { describePorts, isPortFree, listReservations } from "../../src/ports";
import { clusterContainers, uniqueClusterId } from "./helpers";

const childScript = path.join(__dirname, "child-start.ts");

/** Starts a child process that starts a cluster and holds it; resolves with the child and its cluster id. */
async function childWithCluster(clusterId: string): Promise<ChildProcess> {
  // node itself (tsx as a loader, not the tsx wrapper) so signals reach the process that owns the cluster
  const child = spawn(process.execPath, ["--import", "tsx", childScript, JSON.stringify({ nodes: 2, rf: 2, clusterId })], {
    // No Ryuk for the children: only the fixture's own sweep may remove what a killed child leaves.
    env: { ...process.env, M3AGG_CHILD_HOLD: "1", TESTCONTAINERS_RYUK_DISABLED: "true" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`child exited with ${code} before starting its cluster`)));
  });
  expect(JSON.parse(firstLine)).toEqual({ clusterId });
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
}

describe("teardown guarantees", () => {
  test("a SIGKILLed owner's containers and port reservations are swept; a live owner's cluster is left alone; SIGTERM removes it", async () => {
    const killedId = uniqueClusterId("orphan");
    const liveId = uniqueClusterId("alive");
    const killed = await childWithCluster(killedId);
    const live = await childWithCluster(liveId);
    try {
      killed.kill("SIGKILL");
      await exited(killed);
      expect(await clusterContainers(killedId)).toHaveLength(4); // SIGKILL: no handler ran, the containers stay
      const reservedBy = (id: string) => listReservations().filter((r) => r.cluster === id).length;
      expect(reservedBy(killedId)).toBe(10); // and so do its port reservations (2 nodes × 3 + 4)
      expect(reservedBy(liveId)).toBe(10);
      const lockFiles = (id: string) => fs.readdirSync(lockDir()).filter((f) => f.startsWith(`cluster-${id}~`)).length;
      expect(fs.existsSync(clusterDirOf(killedId))).toBe(true); // its cluster folder (private keys, mounted configs)
      expect(lockFiles(killedId)).toBe(1); // and its cluster-id lock file

      // The next start sweeps (nothing else can remove them: the children ran without Ryuk).
      const mine = await M3AggregatorCluster.start({ nodes: 2, rf: 2 });
      await mine.stop();
      expect(await clusterContainers(killedId)).toEqual([]);
      expect(reservedBy(killedId)).toBe(0);
      expect(fs.existsSync(clusterDirOf(killedId))).toBe(false);
      expect(lockFiles(killedId)).toBe(0);
      expect(await clusterContainers(liveId)).toHaveLength(4); // owner alive: untouched
      expect(reservedBy(liveId)).toBe(10);
      expect(fs.existsSync(clusterDirOf(liveId))).toBe(true);
      expect(lockFiles(liveId)).toBe(1);

      live.kill("SIGTERM");
      await exited(live);
      expect(live.signalCode ?? live.exitCode).toBe("SIGTERM"); // the handler removed the cluster, then let SIGTERM end it
      expect(await clusterContainers(liveId)).toEqual([]);
      expect(reservedBy(liveId)).toBe(0); // the SIGTERM handler's teardown released them
      expect(fs.existsSync(clusterDirOf(liveId))).toBe(false);
      expect(lockFiles(liveId)).toBe(0);
    } finally {
      killed.kill("SIGKILL");
      live.kill("SIGKILL");
    }
  }, 180_000);

  test("20 start/stop cycles leave zero containers of theirs, no reservations and no listening ports", async () => {
    const ports = new Set<number>();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId: uniqueClusterId(`cycle${i}`) });
      ids.push(cluster.getClusterId());
      for (const { port } of describePorts(cluster.ports)) ports.add(port);
      await cluster.stop();
    }
    // Only this test's clusters: other clusters (other suites, other users of the engine) may run now.
    const mine = (await containersWithLabel(LABEL_CLUSTER)).filter((c) => ids.includes(c.labels[LABEL_CLUSTER] ?? ""));
    expect(mine.map((c) => c.name)).toEqual([]);
    expect(listReservations().filter((r) => ids.includes(r.cluster))).toEqual([]);
    const stillListening: number[] = [];
    for (const port of ports) if (!(await isPortFree(port))) stillListening.push(port);
    expect(stillListening).toEqual([]);
  }, 600_000);
});
