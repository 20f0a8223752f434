/**
 * Live output of several containers, line by line, like `docker compose logs -f`:
 * one Docker log stream per container (demultiplexed by Testcontainers' client),
 * followed again when a container comes back after a stop, kill or restart.
 */
import type { Readable } from "node:stream";
import { dockerClient } from "./client";
import { LogFrames, logLines, parseStamp, sinceParameter, splitStamp } from "./log-frames";
import { type LogLine, renderLogLine } from "../util/log-render";

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
  /** Ends every stream; resolves when they are closed. */
  stop(): Promise<void>;
  /** Resolves when every stream ended by itself (follow: false), or after stop(). */
  readonly done: Promise<void>;
}

/** How often a follower looks whether a stopped container runs again. */
const RESTART_POLL_MS = 250;

export async function followContainerLogs(containers: Array<{ component: string; id: string }>, options: FollowLogsOptions): Promise<LogFollower> {
  const client = await dockerClient();
  const follow = options.follow ?? true;
  let stopped = false;
  const streams = new Set<Readable>();
  const timers = new Set<NodeJS.Timeout>();

  const one = async (component: string, id: string): Promise<void> => {
    const container = client.container.dockerode.getContainer(id);
    if (!follow) {
      // One read of what is there: Docker's non-follow logs end when all of it is delivered.
      const raw = (await container.logs({ follow: false, stdout: true, stderr: true, since: options.since ?? 0, ...(options.tail === undefined ? {} : { tail: options.tail }) })) as unknown as Buffer;
      emitAll(component, logLines(Buffer.from(raw)), options.onLine);
      return;
    }
    let since: number | string = options.since ?? 0;
    let tail = options.tail;
    // The engine's stamp of the newest message delivered. A container's stream ends when it stops;
    // the next one starts there, so no line of the new run is lost however late this process
    // sees the stop, and none already delivered comes twice (`since` keeps messages AT the stamp).
    let lastNs: bigint | undefined;
    while (!stopped) {
      const stream = (await container.logs({ follow: true, stdout: true, stderr: true, timestamps: true, since, ...(tail === undefined ? {} : { tail }) })) as unknown as Readable & { socket?: { unref(): void } };
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
      // The container stopped (or was removed): wait until it runs again, then follow on.
      tail = undefined;
      for (;;) {
        if (stopped) return;
        let state: { Running?: boolean; FinishedAt?: string } | undefined;
        try {
          state = (await container.inspect()).State;
        } catch {
          return; // removed: nothing more to follow
        }
        if (state?.Running === true) {
          // Nothing delivered yet: the new run's lines all come after the old run finished.
          const finishedNs = state.FinishedAt === undefined ? undefined : parseStamp(state.FinishedAt);
          const fromNs = lastNs ?? (finishedNs !== undefined && finishedNs > 0n ? finishedNs : undefined); // "0001-01-01…": never finished
          if (fromNs !== undefined) {
            since = sinceParameter(fromNs);
            lastNs = fromNs;
          }
          break;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { timers.delete(t); resolve(); }, RESTART_POLL_MS);
          timers.add(t);
        });
      }
    }
  };

  const done = Promise.all(containers.map((c) => one(c.component, c.id))).then(() => undefined);
  return {
    done,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      for (const s of streams) s.destroy();
      await done.catch(() => undefined);
    },
  };
}

function emitAll(component: string, lines: string[], onLine: (line: LogLine) => void): void {
  for (const line of lines) {
    const raw = line.replace(/\r$/, "");
    onLine({ component, raw, ...renderLogLine(raw) });
  }
}
