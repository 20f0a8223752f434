/**
 * Live output of several containers, line by line, like `docker compose logs -f`:
 * one Docker log stream per container (demultiplexed by Testcontainers' client),
 * followed again when a container comes back after a stop, kill or restart.
 */
import type { Readable } from "node:stream";
import { dockerClient } from "./client";
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
    let since = options.since ?? 0;
    let tail = options.tail;
    while (!stopped) {
      if (!follow) {
        // One read of what is there: Docker's non-follow logs, demultiplexed here.
        const buffer = (await container.logs({ follow: false, stdout: true, stderr: true, since, ...(tail === undefined ? {} : { tail }) })) as unknown as Buffer;
        emitAll(component, demux(buffer), options.onLine);
        return;
      }
      const stream = await client.container.logs(container, { since, ...(tail === undefined ? {} : { tail }) });
      streams.add(stream);
      await new Promise<void>((resolve) => {
        let partial = "";
        stream.on("data", (chunk: Buffer | string) => {
          const parts = (partial + chunk.toString()).split("\n");
          partial = parts.pop() ?? "";
          emitAll(component, parts, options.onLine);
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
      // The container stopped (or was removed): wait until it runs again, then follow from then on.
      since = Math.floor(Date.now() / 1000);
      tail = undefined;
      for (;;) {
        if (stopped) return;
        let state: { Running?: boolean } | undefined;
        try {
          state = (await container.inspect()).State;
        } catch {
          return; // removed: nothing more to follow
        }
        if (state?.Running === true) break;
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

/** Docker's multiplexed log format (8-byte frame headers) as lines; a TTY container's plain bytes as they are. */
export function demux(buffer: Buffer): string[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  const framed = buffer.length >= 8 && (buffer[0] === 1 || buffer[0] === 2) && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
  if (!framed) return buffer.toString("utf8").split("\n").filter((l, i, all) => l !== "" || i < all.length - 1);
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    chunks.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  const text = Buffer.concat(chunks).toString("utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}
