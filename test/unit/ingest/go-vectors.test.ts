/**
 * Our encoder against m3's OWN encoder, byte for byte, at both wire versions:
 * test/go/vectors, run against go.v1.5.0.mod or go.v1.6.0.mod (module files requiring
 * github.com/m3db/m3 at that exact version, their go.sum committed), encodes the
 * metrics of test/go/cases.json with protobuf.NewUnaggregatedEncoder +
 * EncodeMessage and print the frames as hex. Needs Go (the images need it too);
 * the first run downloads m3's modules from the Go module proxy.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { encodeFrame, IngestEncoder, type Metric } from "../../../src/ingest/encoder";
import type { M3Version } from "../../../src/model/versions";

const GO_DIR = path.resolve(__dirname, "../../go");

type IdSpec = string | { repeat: string; times: number };
interface Case { name: string; metric: Record<string, unknown> & { type: string; id: IdSpec } }
const { cases } = JSON.parse(fs.readFileSync(path.join(GO_DIR, "cases.json"), "utf8")) as { cases: Case[] };

/** The case's metric in our API (int64s as bigint, ids and value ranges expanded as main.go does). */
function metricOf(spec: Case["metric"]): Metric {
  const id = typeof spec.id === "string" ? spec.id : spec.id.repeat.repeat(spec.id.times);
  const out: Record<string, unknown> = { ...spec, id };
  if (spec.type === "counter") out.value = BigInt(spec.value as string);
  if (spec.type === "timed") out.timeNanos = BigInt(spec.timeNanos as string);
  const values = spec.values as number[] | { range: number } | undefined;
  if (values !== undefined && !Array.isArray(values)) out.values = Array.from({ length: values.range }, (_, i) => i * 1.25);
  return out as Metric;
}

async function goFrames(version: M3Version): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)("go", ["run", `-modfile=go.${version}.mod`, ".", "../cases.json"], {
    cwd: path.join(GO_DIR, "vectors"),
    env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=readonly", GOTOOLCHAIN: "local" },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = JSON.parse(stdout) as { m3Version: string; frames: Record<string, string> };
  expect(out.m3Version).toBe(version); // the module really built against that m3
  return out.frames;
}

describe.each(["v1.5.0", "v1.6.0"] as const)("frames equal m3 %s's Go encoder", (version) => {
  let frames: Record<string, string>;
  beforeAll(async () => {
    frames = await goFrames(version);
  }, 600_000);

  test("Go encoded every case", () => {
    expect(Object.keys(frames).sort()).toEqual(cases.map((c) => c.name).sort());
  });

  test.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const expected = frames[c.name];
    expect(expected).toBeDefined();
    const metric = metricOf(c.metric);
    expect(encodeFrame(metric, { m3Version: version }).toString("hex")).toBe(expected);
    // Counters whose value is a safe integer also go through the `number` path (the hot path: client.counter(id, 1)).
    if (metric.type === "counter" && typeof metric.value === "bigint" && Number.isSafeInteger(Number(metric.value)) && BigInt(Number(metric.value)) === metric.value) {
      expect(encodeFrame({ ...metric, value: Number(metric.value) }, { m3Version: version }).toString("hex")).toBe(expected);
      const encoder = new IngestEncoder({ m3Version: version });
      encoder.counter(metric.id, Number(metric.value), metric);
      expect(encoder.take().toString("hex")).toBe(expected);
    }
  });

  test("the number path is exercised: counter cases with safe-integer values exist (small, 2^32+5, negative)", () => {
    const numbers = cases.filter((c) => c.metric.type === "counter" && Number.isSafeInteger(Number(c.metric.value))).map((c) => BigInt(c.metric.value as string));
    expect(numbers.some((v) => v > 0n && v < 128n)).toBe(true);
    expect(numbers.some((v) => v > 4294967295n)).toBe(true);
    expect(numbers.some((v) => v < 0n)).toBe(true);
  });

  test("all cases appended into one reused buffer equal Go's frames concatenated", () => {
    const encoder = new IngestEncoder({ m3Version: version, initialBytes: 16 }); // forces growth
    for (const c of cases) encoder.append(metricOf(c.metric));
    expect(encoder.take().toString("hex")).toBe(cases.map((c) => frames[c.name]).join(""));
  });

  test("the cases cover frame sizes with 1-, 2- and 3-byte size prefixes", () => {
    const sizes = Object.values(frames).map((hex) => hex.length / 2);
    expect(sizes.some((n) => n < 64)).toBe(true);
    expect(sizes.some((n) => n > 130 && n < 8192)).toBe(true);
    expect(sizes.some((n) => n > 16_400)).toBe(true);
  });
});
