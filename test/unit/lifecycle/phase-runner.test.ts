/** The start's phase runner: progress events, timings, deadline, and failures tagged with their phase. */
import { failedPhase, PhaseFailure, PhaseRunner } from "../../../src/lifecycle/phase-runner";
import type { ProgressEvent } from "../../../src/model/phases";

describe("PhaseRunner", () => {
  test("reports begin and end with the phase's time, records it, and returns the phase's value", async () => {
    const events: ProgressEvent[] = [];
    const runner = new PhaseRunner(60_000, (e) => events.push(e));
    const value = await runner.run("ports", async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 42;
    });
    expect(value).toBe(42);
    expect(events.map((e) => [e.phase, e.state])).toEqual([["ports", "begin"], ["ports", "end"]]);
    expect(events[1]!.ms).toBeGreaterThanOrEqual(15);
    expect(runner.timings.ports).toBe(events[1]!.ms);
    expect(runner.finish().total).toBeGreaterThanOrEqual(runner.timings.ports!);
  });

  test("a failure is reported, timed, and rethrown as a PhaseFailure naming the first failing phase", async () => {
    const events: string[] = [];
    const runner = new PhaseRunner(60_000, (e) => events.push(`${e.phase} ${e.state}`));
    const boom = new Error("etcd exited");
    const inner = runner.run("etcd", async () => { throw boom; });
    // An outer phase awaiting the failed inner one keeps the inner phase's name.
    const outer = runner.run("placement", () => inner);
    const error = await outer.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseFailure);
    expect(failedPhase(error, "validate")).toEqual({ phase: "etcd", cause: boom });
    expect(events).toEqual(["etcd begin", "placement begin", "etcd failed", "placement failed"]);
    expect(runner.timings.etcd).toEqual(expect.any(Number));
  });

  test("an error outside any phase belongs to the fallback phase", () => {
    const cause = new Error("bad");
    expect(failedPhase(cause, "validate")).toEqual({ phase: "validate", cause });
  });

  test("a throwing progress callback does not break a phase", async () => {
    const runner = new PhaseRunner(60_000, () => { throw new Error("printer broke"); });
    await expect(runner.run("images", async () => "ok")).resolves.toBe("ok");
  });

  test("remaining(): time to the deadline, at least 1 s; restartDeadline() gives the whole timeout again", async () => {
    const runner = new PhaseRunner(1_500);
    expect(runner.remaining()).toBeGreaterThan(1_400);
    expect(runner.remaining()).toBeLessThanOrEqual(1_500);
    const past = new PhaseRunner(0);
    expect(past.remaining()).toBe(1_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    runner.restartDeadline();
    expect(runner.remaining()).toBeGreaterThan(1_450);
  });
});
