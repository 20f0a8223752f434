import { parseArgs, UsageError } from "../../../src/cli/args";
import { parseMix } from "../../../src/cli/load";
import { InvalidLoadOptionError, nearWindowBoundary, resolveLoadOptions } from "../../../src/load/run";

describe("load options", () => {
  test("defaults: max rate, 10 s, 1000 ids, counters only, 1 connection", () => {
    const o = resolveLoadOptions({});
    expect(o).toMatchObject({ rate: "max", durationMs: 10_000, count: Infinity, ids: 1000, connections: 1, pattern: ["counter"] });
  });

  test("a count alone sends until the count; with a duration, whichever comes first", () => {
    expect(resolveLoadOptions({ count: 500 })).toMatchObject({ count: 500, durationMs: Infinity });
    expect(resolveLoadOptions({ count: 500, durationSeconds: 2 })).toMatchObject({ count: 500, durationMs: 2000 });
  });

  test("the mix is interleaved by weight: id k gets pattern[k % length]", () => {
    const { pattern } = resolveLoadOptions({ mix: { counter: 2, gauge: 1, timer: 1 } });
    expect(pattern).toHaveLength(4);
    expect(pattern.filter((t) => t === "counter")).toHaveLength(2);
    expect(pattern[0]).toBe("counter");
    expect(new Set(pattern)).toEqual(new Set(["counter", "gauge", "timer"]));
  });

  test.each([
    [{ rate: 0 }, "rate"],
    [{ rate: "fast" }, "rate"],
    [{ durationSeconds: -1 }, "durationSeconds"],
    [{ ids: 0 }, "ids"],
    [{ count: 1.5 }, "count"],
    [{ connections: 100 }, "connections"],
    [{ boundaryQuietMs: -1 }, "boundaryQuietMs"],
    [{ boundaryQuietMs: 2_501 }, "boundaryQuietMs"],
    [{ mix: { counter: 0 } }, "mix"],
    [{ mix: { histogram: 1 } }, "mix"],
  ])("%j is rejected naming %s", (options, option) => {
    try {
      resolveLoadOptions(options as never);
      throw new Error("not rejected");
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidLoadOptionError);
      expect((error as InvalidLoadOptionError).option).toBe(option);
    }
  });
});

describe("m3agg load arguments", () => {
  test("load flags, then the flags of up; backend is always sink", () => {
    const command = parseArgs(["load", "--nodes", "2", "--rf", "2", "--rate", "5000", "--duration", "3", "--ids", "50", "--mix", "counter=3,gauge", "--connections", "2", "--json"], {});
    expect(command).toEqual({
      command: "load", clusterId: undefined, json: true,
      cluster: { nodes: 2, rf: 2, backend: "sink" },
      load: { rate: 5000, durationSeconds: 3, ids: 50, mix: { counter: 3, gauge: 1 }, connections: 2 },
    });
  });

  test("--cluster loads a running cluster and takes no up flags", () => {
    expect(parseArgs(["load", "--cluster", "c1", "--count", "10"], {})).toMatchObject({ command: "load", clusterId: "c1", load: { count: 10 } });
    expect(() => parseArgs(["load", "--cluster", "c1", "--nodes", "2"], {})).toThrow("--cluster loads a running cluster; the flags of up (--nodes 2) do not apply");
  });

  test.each([
    [["--rate", "-5"], "--rate takes a positive number"],
    [["--count", "1.5"], "--count takes a positive whole number"],
    [["--backend", "blackhole"], "load starts its cluster with backend sink"],
    [["--detach"], "use up --detach, then load --cluster ID"],
    [["--mix", "counter=1,histogram=2"], "--mix takes type=weight pairs"],
    [["--mix", "counter=0"], "invalid load option mix"],
    [["--frobnicate"], "unknown flag \"--frobnicate\""],
  ])("%j is a usage error: %s", (flags, message) => {
    expect(() => parseArgs(["load", ...flags], {})).toThrow(UsageError);
    expect(() => parseArgs(["load", ...flags], {})).toThrow(message);
  });

  test("parseMix: a bare type weighs 1", () => {
    expect(parseMix("counter,timed=4")).toEqual({ counter: 1, timed: 4 });
  });

  test("boundaryQuietMs: quiet within that many ms either side of a 10 s boundary, and nowhere else", () => {
    expect(resolveLoadOptions({}).boundaryQuietMs).toBe(0);
    expect(nearWindowBoundary(1_700_000_000_000, 0)).toBe(false); // off by default, even on a boundary
    const boundary = 1_700_000_010_000; // a multiple of 10 000 ms
    expect(nearWindowBoundary(boundary, 200)).toBe(true);
    expect(nearWindowBoundary(boundary + 199, 200)).toBe(true);
    expect(nearWindowBoundary(boundary + 200, 200)).toBe(false);
    expect(nearWindowBoundary(boundary - 200, 200)).toBe(true);
    expect(nearWindowBoundary(boundary - 201, 200)).toBe(false);
    expect(nearWindowBoundary(boundary + 5_000, 200)).toBe(false);
  });
});
