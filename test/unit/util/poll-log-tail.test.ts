/** The one poll loop and the one log-tail format. */
import { poll, PollTimeoutError } from "../../../src/util/poll";
import { formatLogTail, LOG_TAIL_LINES } from "../../../src/util/log-tail";
import { ClusterStartError } from "../../../src/cluster/errors";

describe("poll", () => {
  test("resolves with the first result that is not undefined, checking every intervalMs", async () => {
    let calls = 0;
    const value = await poll(() => (++calls === 3 ? `third` : undefined), { timeoutMs: 5_000, intervalMs: 5, what: "third call" });
    expect(value).toBe("third");
    expect(calls).toBe(3);
  });

  test("falsy results other than undefined count as results", async () => {
    await expect(poll(() => 0, { timeoutMs: 100, what: "zero" })).resolves.toBe(0);
  });

  test("times out with a PollTimeoutError naming what and how long, after checking once more at the deadline", async () => {
    let calls = 0;
    const t0 = Date.now();
    const error = await poll(() => { calls++; return undefined; }, { timeoutMs: 60, intervalMs: 10, what: "the impossible" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollTimeoutError);
    expect((error as Error).message).toBe("the impossible not met within 60 ms");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(60);
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  test("a NaN, negative or infinite timeout (or interval) is refused before the first check: it would poll forever", async () => {
    let calls = 0;
    for (const timeoutMs of [Number.NaN, -1, Infinity]) {
      await expect(poll(() => { calls++; return 1; }, { timeoutMs, what: "x" })).rejects.toThrow(`poll(x): timeoutMs=${String(timeoutMs)} must be a finite number of ms >= 0`);
    }
    await expect(poll(() => 1, { timeoutMs: 10, intervalMs: Number.NaN, what: "y" })).rejects.toThrow("poll(y): intervalMs=NaN");
    expect(calls).toBe(0);
    // "Until not undefined": false and null are results too.
    await expect(poll(() => false, { timeoutMs: 10, what: "z" })).resolves.toBe(false);
  });

  test("onTimeout builds the error; an error thrown by check ends the poll at once", async () => {
    await expect(poll(() => undefined, { timeoutMs: 0, what: "x", onTimeout: () => new Error("last state: red") })).rejects.toThrow("last state: red");
    let calls = 0;
    await expect(poll(() => { calls++; throw new Error("container exited"); }, { timeoutMs: 5_000, what: "x" })).rejects.toThrow("container exited");
    expect(calls).toBe(1);
  });
});

describe("formatLogTail", () => {
  const lines = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`);

  test("header with the count shown, then the last lines (40 by default)", () => {
    const text = formatLogTail("m3aggregator01", lines);
    expect(LOG_TAIL_LINES).toBe(40);
    expect(text.split("\n")[0]).toBe("--- last 40 log lines of m3aggregator01 ---");
    expect(text.split("\n").slice(1)).toEqual(lines.slice(10));
  });

  test("fewer lines than asked: the header counts what there is", () => {
    expect(formatLogTail("etcd", ["a", "b"], 5)).toBe("--- last 2 log lines of etcd ---\na\nb");
  });

  test("ClusterStartError uses it for every container with output", () => {
    const error = new ClusterStartError("c1", "etcd", new Error("boom"), [{ component: "etcd", lines: ["x", "y"] }, { component: "m3coordinator", lines: [] }]);
    expect(error.message).toBe('cluster c1 failed to start in phase "etcd": boom\n(nothing had been started)\n--- last 2 log lines of etcd ---\nx\ny');
  });

  test("ClusterStartError tells the truth about its teardown: what was removed, or what is left and how to remove it", () => {
    const ok = new ClusterStartError("c1", "etcd", new Error("boom"), [],
      { clusterId: "c1", removed: ["etcd-1", "coord-1"], left: [], portsReleased: [20001, 20002, 20003], clusterDirRemoved: "/tmp/m3agg-clusters/c1" });
    expect(ok.message).toContain("(teardown removed everything it had started: 2 containers, 3 port reservations, its cluster folder)");
    const failed = new ClusterStartError("c1", "etcd", new Error("boom"), [],
      { clusterId: "c1", removed: ["etcd-1"], left: ["m3agg-c1-node1"], portsReleased: [], error: "engine said 500" });
    expect(failed.message).toContain("teardown FAILED: left m3agg-c1-node1 (removed: etcd-1; port reservations and cluster folder kept)");
    expect(failed.message).toContain("npx m3agg down --cluster c1");
    expect(failed.message).toContain("engine said 500");
    expect(failed.message).not.toContain("removed everything");
    expect(failed.teardown?.left).toEqual(["m3agg-c1-node1"]);
  });
});
