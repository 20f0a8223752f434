/**
 * The few Docker engine calls the fixture makes itself (through
 * Testcontainers' runtime client): is an engine there, does an image exist,
 * which containers carry a label, remove them.
 */
import { getContainerRuntimeClient, getReaper, ImageName, type ContainerRuntimeClient } from "testcontainers";
import { prepareTestcontainersEnv } from "./testcontainers-env";
import { logLines } from "./log-frames";

/** No Docker engine answered. */
export class DockerUnavailableError extends Error {
  override readonly name = "DockerUnavailableError";
  constructor(cause: unknown) {
    super(
      "no Docker engine answered (DOCKER_HOST=" + (process.env.DOCKER_HOST || "unset, default socket /var/run/docker.sock") + "): " +
      (cause instanceof Error ? cause.message : String(cause)) +
      ". Start one: `bash scripts/ensure-docker.sh` (installs Debian's docker.io and runs dockerd --iptables=false as root).",
      { cause },
    );
  }
}

/** The runtime client, or a {@link DockerUnavailableError} that says how to get an engine. */
export async function dockerClient(): Promise<ContainerRuntimeClient> {
  try {
    await prepareTestcontainersEnv();
    return await getContainerRuntimeClient();
  } catch (error) {
    throw new DockerUnavailableError(error);
  }
}

let reaper: Promise<unknown> | undefined;

/**
 * Testcontainers' reaper of this process (Ryuk, or its stand-in when Ryuk is off), made once. Every
 * container start asks for it, and until the first ask resolves each one takes Testcontainers' file
 * lock, retried every 500 ms: the six parallel starts of a process's first cluster waited 0.5 s on it.
 */
export function sessionReaper(): Promise<unknown> {
  reaper ??= dockerClient().then((client) => getReaper(client));
  reaper.catch(() => (reaper = undefined)); // a failed ask is asked again next time
  return reaper;
}

/** True when the engine has the image locally (no pull is attempted). */
export async function imageExists(image: string): Promise<boolean> {
  const client = await dockerClient();
  return client.image.exists(ImageName.fromString(image));
}

/** A container as `docker ps -a` lists it. */
export interface ContainerSummary {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
}

/** Containers (running or not) whose label `name` has `value` (any value when omitted). */
export async function containersWithLabel(name: string, value?: string): Promise<ContainerSummary[]> {
  const client = await dockerClient();
  const filter = value === undefined ? name : `${name}=${value}`;
  const list = await client.container.dockerode.listContainers({ all: true, filters: { label: [filter] } });
  return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? "").replace(/^\//, ""), state: c.State, labels: c.Labels }));
}

/** Force-removes containers by id; a container already gone is not an error. Returns the ids removed. */
export async function removeContainers(ids: string[]): Promise<string[]> {
  const client = await dockerClient();
  const removed: string[] = [];
  await Promise.all(ids.map(async (id) => {
    try {
      await client.container.dockerode.getContainer(id).remove({ force: true, v: true });
      removed.push(id);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }));
  return removed;
}

/** CPU seconds the containers have used so far, summed (their cgroup counters, via the engine's stats). */
export async function containerCpuSeconds(ids: string[]): Promise<number> {
  return (await containerCpuSecondsEach(ids)).reduce((sum, s) => sum + s, 0);
}

/** CPU seconds each container has used so far, in order (one-shot stats: no second sample is awaited). */
export async function containerCpuSecondsEach(ids: string[]): Promise<number[]> {
  const client = await dockerClient();
  return Promise.all(ids.map(async (id) => {
    const stats = (await client.container.dockerode.getContainer(id).stats({ stream: false, "one-shot": true } as never)) as unknown as { cpu_stats: { cpu_usage: { total_usage: number } } };
    return stats.cpu_stats.cpu_usage.total_usage / 1e9;
  }));
}

/**
 * Everything container `id` printed so far (stdout and stderr, in order), read once without
 * following: the engine's answer ends when all of it is delivered, so nothing is missed and
 * nothing is waited for. Lines, without the trailing empty one.
 */
export async function containerLogLines(id: string): Promise<string[]> {
  const client = await dockerClient();
  const raw = (await client.container.dockerode.getContainer(id).logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer;
  return logLines(Buffer.from(raw));
}

