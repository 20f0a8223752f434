/**
 * Docker's log stream formats: the multiplexed frames of a container without a TTY (an 8-byte
 * header: stream type, 3 zero bytes, payload size big-endian; then the payload, one log message),
 * and the timestamp the engine puts before each message when asked (`timestamps: true`).
 */

/** True when `raw` starts with a frame header (a TTY container's output has none). */
function isFramed(raw: Buffer): boolean {
  return raw.length >= 8 && (raw[0] === 1 || raw[0] === 2) && raw[1] === 0 && raw[2] === 0 && raw[3] === 0;
}

/** Everything in a finished log read, as text: frames joined in order, or a TTY's bytes as they are. */
export function logText(raw: Buffer): string {
  if (!isFramed(raw)) return raw.toString("utf8");
  const frames = new LogFrames();
  return Buffer.concat(frames.push(raw)).toString("utf8");
}

/** A finished log read as lines, without the empty one after the last newline. */
export function logLines(raw: Buffer): string[] {
  const lines = logText(raw).split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Cuts a followed stream into its frames' payloads, whatever the chunking of the socket. */
export class LogFrames {
  private pending: Buffer = Buffer.alloc(0);

  /** The payloads of the frames completed by `chunk`, in order. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const payloads: Buffer[] = [];
    let at = 0;
    while (at + 8 <= this.pending.length) {
      const size = this.pending.readUInt32BE(at + 4);
      if (at + 8 + size > this.pending.length) break;
      payloads.push(this.pending.subarray(at + 8, at + 8 + size));
      at += 8 + size;
    }
    this.pending = this.pending.subarray(at);
    return payloads;
  }
}

/**
 * A message read with `timestamps: true`: the engine's receive time, and the message without it.
 * The stamp is RFC 3339 with nine fraction digits ("2026-12-01T22:19:53.123456789Z "); a message
 * without one (an engine that ignored the option) comes back whole, its stamp undefined.
 */
export function splitStamp(payload: Buffer): { stampNs: bigint | undefined; text: string } {
  const message = payload.toString("utf8");
  const space = message.indexOf(" ");
  const stampNs = space < 0 ? undefined : parseStamp(message.slice(0, space));
  return stampNs === undefined ? { stampNs, text: message } : { stampNs, text: message.slice(space + 1) };
}

/**
 * An engine time (a log stamp, or State.FinishedAt of an inspect) in nanoseconds since the epoch:
 * exact, where a JS number would round it. Undefined when `stamp` is not RFC 3339.
 */
export function parseStamp(stamp: string): bigint | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(stamp);
  const wholeMs = match === null ? Number.NaN : Date.parse(`${match[1]}${match[3]}`);
  if (match === null || Number.isNaN(wholeMs)) return undefined;
  return BigInt(wholeMs) * 1_000_000n + BigInt((match[2] ?? "").padEnd(9, "0"));
}

/** A stamp as the engine's `since` parameter ("seconds.nanoseconds"); the engine keeps messages at or after it. */
export function sinceParameter(stampNs: bigint): string {
  return `${stampNs / 1_000_000_000n}.${String(stampNs % 1_000_000_000n).padStart(9, "0")}`;
}
