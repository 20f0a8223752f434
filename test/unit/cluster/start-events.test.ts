/** The points of a start that containers wait for: reached once, and failed for every waiter when the start fails. */
import { StartEvents } from "../../../src/cluster/phases";

describe("StartEvents", () => {
  test('"now" resolves at once; an event resolves when reached', async () => {
    const events = new StartEvents();
    await expect(events.when("now")).resolves.toBeUndefined();
    let placed = false;
    const waiting = events.when("placement").then(() => (placed = true));
    await Promise.resolve();
    expect(placed).toBe(false);
    events.reached("placement");
    await waiting;
    expect(placed).toBe(true);
  });

  test("a failed start fails every waiter of an event not reached, and leaves a reached one resolved", async () => {
    const events = new StartEvents();
    events.reached("coordinator-started");
    const placement = events.when("placement");
    events.abort();
    await expect(placement).rejects.toThrow('the start failed before "placement"');
    await expect(events.when("coordinator-started")).resolves.toBeUndefined();
  });

  test("an abort with nobody waiting is no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      new StartEvents().abort();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
