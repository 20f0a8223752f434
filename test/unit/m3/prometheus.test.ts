import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { parsePrometheusText, PrometheusMetrics, PrometheusParseError } from "../../../src/m3/prometheus";

// The shapes m3 v1.5.0's /metrics serves (tally's reporter): a histogram's _sum/_count before its buckets,
// counters per label set, NaN quantiles.
const M3_SAMPLE = `# HELP m3aggregator_aggregator_addUntimed_success m3aggregator_aggregator_addUntimed_success counter
# TYPE m3aggregator_aggregator_addUntimed_success counter
m3aggregator_aggregator_addUntimed_success 10000
# TYPE m3aggregator_aggregator_addUntimed_errors counter
m3aggregator_aggregator_addUntimed_errors{reason="arrived_too_late",role="leader"} 2
m3aggregator_aggregator_addUntimed_errors{reason="shard_not_owned",role="non_leader"} 3
# TYPE m3aggregator_aggregator_flush_manager_bucket_flush_lag histogram
m3aggregator_aggregator_flush_manager_bucket_flush_lag_sum{bucket_type="standard",interval="10s"} 1.01
m3aggregator_aggregator_flush_manager_bucket_flush_lag_count{bucket_type="standard",interval="10s"} 2
m3aggregator_aggregator_flush_manager_bucket_flush_lag_bucket{bucket_type="standard",interval="10s",le="0.01"} 1
m3aggregator_aggregator_flush_manager_bucket_flush_lag_bucket{bucket_type="standard",interval="10s",le="+Inf"} 2
# TYPE m3aggregator_aggregator_addUntimed_success_latency summary
m3aggregator_aggregator_addUntimed_success_latency{quantile="0.5"} NaN
m3aggregator_aggregator_addUntimed_success_latency_sum 0.0135
go_goroutines 42 1700000000000
escaped{path="C:\\\\DIR\\\\F.TXT",msg="say \\"hi\\"\\n",} -Inf
`;

describe("parsePrometheusText", () => {
  const samples = parsePrometheusText(M3_SAMPLE);

  test("one sample per line, with its family's type (histogram parts included)", () => {
    expect(samples).toHaveLength(11);
    expect(samples[0]).toEqual({ name: "m3aggregator_aggregator_addUntimed_success", labels: {}, value: 10000, type: "counter" });
    expect(samples[3]).toEqual({ name: "m3aggregator_aggregator_flush_manager_bucket_flush_lag_sum", labels: { bucket_type: "standard", interval: "10s" }, value: 1.01, type: "histogram" });
    expect(samples[6]).toMatchObject({ labels: { le: "+Inf" }, value: 2, type: "histogram" });
    expect(samples[7]?.value).toBeNaN();
    expect(samples[8]?.type).toBe("summary");
    expect(samples[9]).toEqual({ name: "go_goroutines", labels: {}, value: 42, type: "untyped" }); // timestamp ignored
    expect(samples[10]).toEqual({ name: "escaped", labels: { path: "C:\\DIR\\F.TXT", msg: 'say "hi"\n' }, value: -Infinity, type: "untyped" });
  });

  test("counters by name and labels; a labelled counter sums over its series", () => {
    const metrics = new PrometheusMetrics(samples);
    expect(metrics.counter("m3aggregator_aggregator_addUntimed_success")).toBe(10000);
    expect(metrics.counter("m3aggregator_aggregator_addUntimed_errors")).toBe(5);
    expect(metrics.counter("m3aggregator_aggregator_addUntimed_errors", { role: "leader" })).toBe(2);
    expect(metrics.sum("m3aggregator_aggregator_addUntimed_errors", { role: "nobody" })).toBe(0);
    expect(() => metrics.counter("m3aggregator_aggregator_addUntimed")).toThrow("no counter m3aggregator_aggregator_addUntimed in the node's metrics (similar: m3aggregator_aggregator_addUntimed_success, m3aggregator_aggregator_addUntimed_errors)");
  });

  test.each([
    ["x{a=1} 3", /expected ="…" after label a/],
    ["x{a=\"1\" 3", /expected , or } after label a/],
    ["x 3 4 5", /expected a value/],
    ["x abc", /expected a value/],
    ["{a=\"1\"} 3", /expected a metric name/],
    ["# TYPE x widget", /a TYPE line needs/],
  ])("%j is rejected naming the line", (line, reason) => {
    const error = (() => {
      try {
        parsePrometheusText(`ok 1\n${line}\n`);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PrometheusParseError);
    expect((error as PrometheusParseError).line).toBe(2);
    expect((error as Error).message).toMatch(reason);
  });
});

test("a real m3aggregator v1.5.0 /metrics page (the leader after 10,000 counters) parses completely", () => {
  const text = zlib.gunzipSync(fs.readFileSync(path.join(__dirname, "m3aggregator-v1.5.0-metrics.txt.gz"))).toString("utf8");
  const metrics = new PrometheusMetrics(parsePrometheusText(text));
  const sampleLines = text.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
  expect(metrics.samples).toHaveLength(sampleLines.length);
  expect(metrics.counter("m3aggregator_aggregator_addUntimed_success")).toBe(10_000);
  expect(metrics.counter("m3aggregator_aggregator_addUntimed_errors")).toBe(0);
  expect(metrics.find("m3aggregator_aggregator_flush_manager_bucket_flush_lag_count", { interval: "10s" })[0]?.value).toBe(2);
  expect(new Set(metrics.samples.map((s) => s.type))).toEqual(new Set(["counter", "gauge", "histogram", "summary"]));
});
