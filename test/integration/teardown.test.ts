/**
 * Teardown that never leaks: orphans of SIGKILLed processes are swept on the
 * next start, live clusters of other processes are left alone, SIGTERM removes
 * a process's clusters, and many start/stop cycles leave nothing behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { M3AggregatorCluster } from "../../src/cluster";
import { containersWithLabel } from "../../src/docker";
import { LABEL_PREFIX } from "../../src/labels";
import { describePorts, isPortFree } from "../../src/ports";
import { clusterContainers, uniqueClusterId } from "./helpers";

const childScript = path.join(__dirname, "child-start.ts");

/** Starts a child process that starts a cluster and holds it; resolves with the child and its cluster id. */
async function childWithCluster(clusterId: string): Promise<ChildProcess> {
  // node itself (tsx as a loader, not the tsx wrapper) so signals reach the process that owns the cluster
  const child = spawn(process.execPath, ["--import", "tsx", childScript, JSON.stringify({ nodes: 2, rf: 2, clusterId })], {
    env: { ...process.env, M3AGG_CHILD_HOLD: "1" },
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
  test("a SIGKILLed owner's containers are swept by the next start; a live owner's cluster is left alone; SIGTERM removes it", async () => {
    const killedId = uniqueClusterId("orphan");
    const liveId = uniqueClusterId("alive");
    const killed = await childWithCluster(killedId);
    const live = await childWithCluster(liveId);
    try {
      killed.kill("SIGKILL");
      await exited(killed);
      expect(await clusterContainers(killedId)).toHaveLength(4); // SIGKILL: no handler ran, the containers stay

      const mine = await M3AggregatorCluster.start({ nodes: 2, rf: 2 });
      await mine.stop();
      expect(await clusterContainers(killedId)).toEqual([]); // swept by the start
      expect(await clusterContainers(liveId)).toHaveLength(4); // owner alive: untouched

      live.kill("SIGTERM");
      await exited(live);
      expect(live.signalCode ?? live.exitCode).toBe("SIGTERM"); // the handler removed the cluster, then let SIGTERM end it
      expect(await clusterContainers(liveId)).toEqual([]);
    } finally {
      killed.kill("SIGKILL");
      live.kill("SIGKILL");
    }
  }, 180_000);

  test("20 start/stop cycles leave zero containers and no listening ports", async () => {
    const ports = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId: uniqueClusterId(`cycle${i}`) });
      for (const { port } of describePorts(cluster.ports)) ports.add(port);
      await cluster.stop();
    }
    expect(await containersWithLabel(`${LABEL_PREFIX}.cluster`)).toEqual([]);
    const stillListening: number[] = [];
    for (const port of ports) if (!(await isPortFree(port))) stillListening.push(port);
    expect(stillListening).toEqual([]);
  }, 600_000);
});
