/**
 * Keeps the last lines a container printed, from its first line on, so a
 * failure can show them even after Testcontainers removed the container.
 */
import type { Readable } from "node:stream";

/** A container's output as lines, kept (up to `capacity`, oldest dropped first) from its first line on. */
export class LogBuffer {
  private readonly lines: string[] = [];
  private partial = "";

  constructor(private readonly capacity = 5_000) {}

  /** Use as `withLogConsumer(buffer.consumer)`. */
  readonly consumer = (stream: Readable): void => {
    stream.on("data", (chunk: Buffer | string) => this.append(chunk.toString()));
    stream.on("end", () => this.flushPartial());
  };

  /** Adds raw output (may hold several or partial lines). */
  append(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) this.push(line);
  }

  private flushPartial(): void {
    if (this.partial !== "") this.push(this.partial);
    this.partial = "";
  }

  private push(line: string): void {
    this.lines.push(line.replace(/\r$/, ""));
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  /** All kept lines (oldest first). */
  all(): string[] {
    return this.partial === "" ? [...this.lines] : [...this.lines, this.partial];
  }

  /** The last `n` lines. */
  tail(n = 30): string[] {
    return this.all().slice(-n);
  }
}
