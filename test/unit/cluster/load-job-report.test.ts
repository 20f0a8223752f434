import { parseLoadgenReport } from "../../../src/cluster/load-job";

describe("parseLoadgenReport: the report line in a pod log that mixes stderr in", () => {
  const report = { report: "m3agg-loadgen/v1", ok: true, idPrefix: "p", ids: 2, increments: 3, value: 1, sent: { counter: 6 }, errors: 0, phase: "done", initMs: 1, sendMs: 2, flushMs: 3, ratePerSec: 3000 };

  test("finds the last line carrying the marker among m3's JSON logs", () => {
    const log = [
      JSON.stringify({ level: "info", msg: "creating etcd watch at revision" }),
      JSON.stringify({ ...report, sent: { counter: 1 } }),
      JSON.stringify({ level: "info", msg: "mentions m3agg-loadgen/v1 in passing" }),
      JSON.stringify(report),
      "",
    ].join("\n");
    expect(parseLoadgenReport(log)).toEqual(report);
  });

  test("a log without the line, or with a broken one, has no report", () => {
    expect(parseLoadgenReport("plain text\n")).toBeUndefined();
    expect(parseLoadgenReport('{"report":"m3agg-loadgen/v1","ok":tru')).toBeUndefined();
    expect(parseLoadgenReport(JSON.stringify({ report: "other/v1" }))).toBeUndefined();
  });
});
