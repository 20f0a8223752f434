/**
 * Live output of several containers, line by line, like `docker compose logs -f`:
 * one Docker log stream per container (its frames read by log-frames.ts), followed
 * again when a container comes back after a stop, kill or restart.
 */
import type { Readable } from "node:stream";
import type Dockerode from "dockerode";
import { dockerClient } from "./client";
import { LogFrames, logLines, parseStamp, sinceParameter, splitStamp } from "./log-frames";
import { type LogLine, renderLogLine } from "../util/log-render";
import { poll } from "../util/poll";

export interface FollowLogsOptions {
  /** Only lines since this time (Unix seconds; default: from the container's first line). */
  since?: number;
  /** Only the last N lines of each container before following (default: all). */
  tail?: number;
  /** Keep following (default true); false: print what there is and end. */
  follow?: boolean;
  /** Called for every line, in the order each container printed them. */
  onLine: (line: LogLine) => void;
}

/** A running follow. */
export interface LogFollower {
  /**
   * Ends every stream; resolves when they are closed. Rejects like `done` when following a
   * container failed before (the engine did not answer): its lines from then on were not delivered.
   */
  stop(): Promise<void>;
  /**
   * Resolves when every stream ended by itself (follow: false; every container removed), or after
   * stop(). Rejects, naming the container, when following one failed.
   */
  readonly done: Promise<void>;
}

/** How often a follower looks whether a stopped container runs again. */
const RESTART_POLL_MS = 250;

export async function followContainerLogs(containers: Array<{ component: string; id: string }>, options: FollowLogsOptions): Promise<LogFollower> {
  const client = await dockerClient();
  const follow = options.follow ?? true;
  const stopping = new AbortController();
  const streams = new Set<Readable>();

  const one = async (component: string, id: string): Promise<void> => {
    const container = client.container.dockerode.getContainer(id);
    if (!follow) {
      // One read of what is there: Docker's non-follow logs end when all of it is delivered.
      const raw = (await container.logs({ follow: false, stdout: true, stderr: true, since: options.since ?? 0, ...(options.tail === undefined ? {} : { tail: options.tail }) })) as unknown as Buffer;
      emitAll(component, logLines(Buffer.from(raw)), options.onLine);
      return;
    }
    let tail = options.tail;
    // The engine's stamp of the newest message delivered. A container's stream ends when it stops;
    // the next one starts there, so no line of the new run is lost however late this process
    // sees the stop, and none already delivered comes twice (`since` keeps messages AT the stamp).
    let lastNs: bigint | undefined;
    while (!stopping.signal.aborted) {
      const since = lastNs === undefined ? options.since ?? 0 : sinceParameter(lastNs);
      let stream: Readable & { socket?: { unref(): void } };
      try {
        stream = (await container.logs({ follow: true, stdout: true, stderr: true, timestamps: true, since, ...(tail === undefined ? {} : { tail }) })) as unknown as typeof stream;
      } catch (error) {
        if (isNotFound(error)) return; // removed since: nothing more to follow
        throw error;
      }
      if (stopping.signal.aborted) return void stream.destroy();
      stream.socket?.unref(); // an open follow does not keep the process alive; stop() ends it
      streams.add(stream);
      const resumedAfter = lastNs;
      await new Promise<void>((resolve) => {
        const frames = new LogFrames();
        let partial = "";
        stream.on("data", (chunk: Buffer) => {
          for (const payload of frames.push(chunk)) {
            const { stampNs, text } = splitStamp(payload);
            if (stampNs !== undefined) {
              if (resumedAfter !== undefined && stampNs <= resumedAfter) continue; // delivered by the stream before
              if (lastNs === undefined || stampNs > lastNs) lastNs = stampNs;
            }
            const parts = (partial + text).split("\n");
            partial = parts.pop() ?? "";
            emitAll(component, parts, options.onLine);
          }
        });
        const end = () => {
          if (partial !== "") emitAll(component, [partial], options.onLine);
          partial = "";
          resolve();
        };
        stream.once("end", end);
        stream.once("close", end);
        stream.once("error", end);
      });
      streams.delete(stream);
      tail = undefined;
      // The container stopped (or was removed): wait until it runs again, then follow on.
      const state = await poll(() => runningAgain(container), {
        timeoutMs: Number.MAX_SAFE_INTEGER, intervalMs: RESTART_POLL_MS, what: `${component} running again`, signal: stopping.signal,
      }).catch((error: unknown) => {
        if (stopping.signal.aborted) return "removed" as const; // stop(): nothing more to follow either
        throw error;
      });
      if (state === "removed") return;
      // Nothing delivered yet: the new run's lines all come after the old run finished
      // ("0001-01-01…": it never finished; the stream ended for another reason).
      const finishedNs = state.FinishedAt === undefined ? undefined : parseStamp(state.FinishedAt);
      if (finishedNs !== undefined && finishedNs > 0n) lastNs ??= finishedNs;
    }
  };

  const done = Promise.all(containers.map((c) => one(c.component, c.id).catch((error: unknown) => {
    throw new Error(`following the logs of ${c.component} (container ${c.id.slice(0, 12)}) failed: ${(error as Error).message}`, { cause: error });
  }))).then(() => undefined);
  done.catch(() => undefined); // reported through done and stop(), not as an unhandled rejection
  return {
    done,
    async stop() {
      stopping.abort();
      for (const s of streams) s.destroy();
      await done;
    },
  };
}

/** The container's state once it runs again; "removed" when it is gone; undefined while it is stopped. */
async function runningAgain(container: Dockerode.Container): Promise<{ FinishedAt?: string } | "removed" | undefined> {
  try {
    const state = (await container.inspect()).State;
    return state.Running ? state : undefined;
  } catch (error) {
    if (isNotFound(error)) return "removed";
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

function emitAll(component: string, lines: string[], onLine: (line: LogLine) => void): void {
  for (const line of lines) {
    const raw = line.replace(/\r$/, "");
    onLine({ component, raw, ...renderLogLine(raw) });
  }
}
