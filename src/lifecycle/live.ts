/**
 * Teardown that does not depend on the test runner behaving: live clusters
 * are registered here; SIGINT/SIGTERM remove them before the process dies,
 * and a plain exit removes them synchronously through the docker CLI.
 * (A SIGKILLed process cannot clean up: sweep.ts removes its leftovers on
 * the next start.)
 */
import { spawnSync } from "node:child_process";
import { containersWithLabel, removeContainers } from "../docker/client";
import { LABEL_CLUSTER } from "../model/labels";
import { releaseReservations } from "../ports";
import { removeTlsMaterial } from "../tls/material";

interface Stoppable {
  readonly id: string;
  stop(): Promise<void>;
}

const live = new Map<string, Stoppable>();
let installed = false;

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  await Promise.allSettled([...live.values()].map((cluster) => cluster.stop()));
  uninstall();
  // Raise it again now that our handler is gone: with no other listener the default action ends the
  // process; libraries such as signal-exit (used by Testcontainers) only re-raise when they are alone.
  process.kill(process.pid, signal);
}

const handlers: Record<"SIGINT" | "SIGTERM", () => void> = {
  SIGINT: () => void onSignal("SIGINT"),
  SIGTERM: () => void onSignal("SIGTERM"),
};

function onExit(): void {
  for (const id of live.keys()) removeSync(id);
}

/** Removes a cluster's containers with the docker CLI, synchronously (for the 'exit' event). */
function removeSync(clusterId: string): void {
  const list = spawnSync("docker", ["ps", "-aq", "--filter", `label=${LABEL_CLUSTER}=${clusterId}`], { encoding: "utf8", timeout: 10_000 });
  const ids = (list.stdout ?? "").split("\n").filter(Boolean);
  if (ids.length > 0) spawnSync("docker", ["rm", "-f", ...ids], { stdio: "ignore", timeout: 30_000 });
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("SIGINT", handlers.SIGINT);
  process.on("SIGTERM", handlers.SIGTERM);
  process.on("exit", onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off("SIGINT", handlers.SIGINT);
  process.off("SIGTERM", handlers.SIGTERM);
  process.off("exit", onExit);
}

/** Called when a cluster starts: from now on signals and exit remove it. */
export function registerLiveCluster(cluster: Stoppable): void {
  live.set(cluster.id, cluster);
  install();
}

/** Called when a cluster stopped. Handlers go away with the last live cluster. */
export function unregisterLiveCluster(id: string): void {
  live.delete(id);
  if (live.size === 0) uninstall();
}

/**
 * Removes every container labelled with the cluster id (force: running,
 * paused and stopped alike), then checks Docker that none is left, then
 * releases the cluster's port reservations. Label-based, so it also catches
 * containers that were created but never handed to us.
 */
export async function teardown(clusterId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const containers = await containersWithLabel(LABEL_CLUSTER, clusterId);
    if (containers.length === 0) {
      removeTlsMaterial(clusterId); // the certificates and the port reservations live as long as the containers
      releaseReservations(clusterId);
      return;
    }
    try {
      await removeContainers(containers.map((c) => c.id));
    } catch (error) {
      if (attempt >= 3) throw new Error(`cluster ${clusterId}: could not remove ${containers.map((c) => c.name).join(", ")}`, { cause: error });
    }
  }
}
