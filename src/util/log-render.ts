/**
 * m3's and etcd's JSON log lines (zap) as `time level msg key=value`, and the
 * component prefix of a merged log. Pure: the follower and the CLI call these.
 */

/** One line of a container's output. */
export interface LogLine {
  /** etcd, m3coordinator, m3aggregator01, … */
  component: string;
  /** The line as the container printed it. */
  raw: string;
  /** Rendered: `time level msg key=value` for JSON lines, else the raw line. */
  text: string;
  /** zap's level, when the line is JSON. */
  level?: string;
}

const RESERVED = new Set(["level", "ts", "time", "msg", "message"]);

/** 13:02:03.123 from zap's `ts`: epoch seconds (float) or an ISO-8601 string. */
function clock(ts: unknown): string | undefined {
  const date = typeof ts === "number" ? new Date(ts * 1000) : typeof ts === "string" ? new Date(ts) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) return typeof ts === "string" ? ts : undefined;
  return date.toISOString().slice(11, 23);
}

function value(v: unknown): string {
  if (typeof v === "string") return /[\s="]/.test(v) || v === "" ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** `time level msg key=value …` for a zap JSON line; anything else unchanged. */
export function renderLogLine(raw: string): { text: string; level?: string } {
  const trimmed = raw.trim();
  if (!trimmed.startsWith("{") || !trimmed.endsWith("}")) return { text: raw };
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    return { text: raw };
  }
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return { text: raw };
  const level = typeof entry.level === "string" ? entry.level : undefined;
  const msg = entry.msg ?? entry.message;
  const parts = [clock(entry.ts ?? entry.time), level?.toUpperCase().padEnd(5), typeof msg === "string" ? msg : msg === undefined ? undefined : value(msg)];
  const rest = Object.entries(entry).filter(([k]) => !RESERVED.has(k)).map(([k, v]) => `${k}=${value(v)}`);
  return { text: [...parts.filter((p): p is string => p !== undefined), ...rest].join(" "), ...(level === undefined ? {} : { level }) };
}

const COLORS = [36, 32, 35, 34, 33, 96, 92, 95, 94, 93];
const LEVEL_COLORS: Record<string, number> = { warn: 33, error: 31, fatal: 31, panic: 31, dpanic: 31 };

/** `component | text`, the component padded to `width`, colored (ANSI) when `color`. */
export function formatLogLine(line: LogLine, options: { width: number; colorIndex: number; color: boolean }): string {
  const name = line.component.padEnd(options.width);
  if (!options.color) return `${name} | ${line.text}`;
  const c = COLORS[options.colorIndex % COLORS.length];
  const levelColor = line.level === undefined ? undefined : LEVEL_COLORS[line.level];
  const text = levelColor === undefined ? line.text : `\u001b[${levelColor}m${line.text}\u001b[0m`;
  return `\u001b[${c}m${name} |\u001b[0m ${text}`;
}
