/**
 * A small parser for the Prometheus text exposition format (0.0.4), as m3's
 * tally reporter serves it on each node's `/metrics`.
 *
 * Hand-written because the kept npm parser (parse-prometheus-text-format
 * 1.1.1) loses the labels, `_sum` and `_count` of a histogram whose `_sum` /
 * `_count` lines come before its `_bucket` lines, which is the order m3 writes
 * (e.g. `flush_manager_bucket_flush_lag`). Samples stay flat: one per line,
 * so a histogram is its `_bucket{le=…}`, `_sum` and `_count` samples.
 */

/** The type a `# TYPE` line declared for a sample's family ("untyped" without one). */
export type PrometheusType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

/** One sample line: `name{labels} value`. */
export interface PrometheusSample {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** May be NaN or ±Infinity (m3 reports NaN quantiles of empty summaries). */
  value: number;
  /** The declared type of the family the sample belongs to. */
  type: PrometheusType;
}

/** A line the parser cannot read: names the line number and the text. */
export class PrometheusParseError extends Error {
  override readonly name = "PrometheusParseError";
  constructor(readonly line: number, readonly text: string, readonly reason: string) {
    super(`cannot parse Prometheus metrics line ${line} ${JSON.stringify(text.slice(0, 200))}: ${reason}`);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string): number | undefined {
  if (text === "NaN") return NaN;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  const value = Number(text);
  return text.trim() === "" || Number.isNaN(value) ? undefined : value;
}

/** The labels of `{a="1",b="x\"y"}` starting at `text[start] === "{"`; returns them and the index after `}`. */
function parseLabels(text: string, start: number, fail: (reason: string) => never): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === "}") return [labels, i + 1];
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (name === undefined) fail(`expected a label name at column ${i + 1}`);
    i += name.length;
    while (text[i] === " ") i++;
    if (text[i] !== "=" || text[i + 1] !== '"') fail(`expected ="…" after label ${name}`);
    i += 2;
    let value = "";
    for (;;) {
      const c = text[i];
      if (c === undefined) fail(`unterminated value of label ${name}`);
      if (c === '"') break;
      if (c === "\\") {
        const next = text[i + 1];
        value += next === "n" ? "\n" : next === "\\" ? "\\" : next === '"' ? '"' : `\\${next ?? ""}`;
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    labels[name] = value;
    i++;
    while (text[i] === " ") i++;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") fail(`expected , or } after label ${name}`);
  }
}

/** Parses a whole exposition; throws {@link PrometheusParseError} naming the first bad line. */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const types = new Map<string, PrometheusType>();
  const samples: PrometheusSample[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === "") continue;
    const fail = (reason: string): never => {
      throw new PrometheusParseError(n + 1, line, reason);
    };
    if (line.startsWith("#")) {
      const parts = line.split(/\s+/);
      if (parts[1] === "TYPE") {
        const type = parts[3] ?? "";
        if (parts[2] === undefined || !TYPES.has(type)) fail(`a TYPE line needs a name and one of ${[...TYPES].join(", ")}`);
        types.set(parts[2] as string, type as PrometheusType);
      }
      continue;
    }
    const name = NAME.exec(line)?.[0];
    if (name === undefined) fail("expected a metric name");
    let i = (name as string).length;
    let labels: Record<string, string> = {};
    if (line[i] === "{") [labels, i] = parseLabels(line, i, fail);
    const rest = line.slice(i).trim().split(/\s+/);
    const value = parseValue(rest[0] ?? "");
    if (value === undefined || rest.length > 2) fail("expected a value and an optional timestamp after the name and labels");
    samples.push({ name: name as string, labels, value: value as number, type: familyType(types, name as string) });
  }
  return samples;
}

function familyType(types: Map<string, PrometheusType>, name: string): PrometheusType {
  const own = types.get(name);
  if (own !== undefined) return own;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  const family = base === undefined ? undefined : types.get(base);
  return family === "histogram" || family === "summary" ? family : "untyped";
}

/** A node's metrics: the samples, and lookups by name and labels. */
export class PrometheusMetrics {
  constructor(readonly samples: readonly PrometheusSample[]) {}

  /** Samples named `name` whose labels include every given label. */
  find(name: string, labels: Record<string, string> = {}): PrometheusSample[] {
    const wanted = Object.entries(labels);
    return this.samples.filter((s) => s.name === name && wanted.every(([k, v]) => s.labels[k] === v));
  }

  /**
   * The sum of the samples named `name` that carry the given labels (so a counter
   * reported per `reason` adds up over the reasons); 0 when there is none.
   */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.find(name, labels).reduce((total, s) => total + s.value, 0);
  }

  /** A counter's value; with labels, the sum over the series that carry them. Throws when no such counter exists. */
  counter(name: string, labels: Record<string, string> = {}): number {
    const found = this.find(name, labels);
    if (found.length === 0) {
      const known = [...new Set(this.samples.filter((s) => s.type === "counter").map((s) => s.name))];
      const near = known.filter((k) => k.includes(name) || name.includes(k)).slice(0, 5);
      throw new Error(`no counter ${name}${Object.keys(labels).length > 0 ? JSON.stringify(labels) : ""} in the node's metrics${near.length > 0 ? ` (similar: ${near.join(", ")})` : ` (${known.length} counters)`}`);
    }
    return found.reduce((total, s) => total + s.value, 0);
  }
}
