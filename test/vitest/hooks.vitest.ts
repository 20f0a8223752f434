// No Docker: how the helpers find and use the runner's hooks under vitest (globals off).
import { describe, expect, test, vi } from "vitest";
import { globalSuiteHooks, useM3AggregatorCluster } from "../../src/jest/helper";
import { useSharedM3AggregatorCluster } from "../../src/jest/shared-cluster";
import { InvalidOptionError } from "../../src/model/options";

describe("hooks passed explicitly", () => {
  test("beforeAll gets the start (startTimeoutMs + 30 s), afterAll the stop (60 s)", async () => {
    const hooks = { beforeAll: vi.fn(), afterAll: vi.fn() };
    const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2, startTimeoutMs: 5_000 }, hooks);
    expect(hooks.beforeAll).toHaveBeenCalledTimes(1);
    expect(hooks.beforeAll.mock.calls[0]?.[1]).toBe(35_000);
    expect(hooks.afterAll).toHaveBeenCalledTimes(1);
    expect(hooks.afterAll.mock.calls[0]?.[1]).toBe(60_000);
    expect(() => m3.cluster).toThrow(/is not started \(did its beforeAll fail\?\)/);
    // afterAll after a failed (never run) beforeAll has nothing to stop and must not throw
    await expect((hooks.afterAll.mock.calls[0]?.[0] as () => Promise<void>)()).resolves.toBeUndefined();
  });

  test("a bad option throws while the file is collected, before any hook is registered", () => {
    const hooks = { beforeAll: vi.fn(), afterAll: vi.fn() };
    expect(() => useM3AggregatorCluster({ nodes: 3 }, hooks)).toThrow(InvalidOptionError);
    expect(hooks.beforeAll).not.toHaveBeenCalled();
  });

  test("the shared-cluster helper registers only a beforeAll (globalTeardown removes the cluster)", () => {
    const hooks = { beforeAll: vi.fn(), afterAll: vi.fn() };
    useSharedM3AggregatorCluster(hooks);
    expect(hooks.beforeAll).toHaveBeenCalledTimes(1);
    expect(hooks.afterAll).not.toHaveBeenCalled();
  });
});

test("vitest without globals has no global hooks: the default says what to do", () => {
  expect((globalThis as { beforeAll?: unknown }).beforeAll).toBeUndefined();
  expect(() => globalSuiteHooks()).toThrow(/m3-aggregator-testcontainers\/vitest/);
  expect(() => useM3AggregatorCluster({ nodes: 2, rf: 2 })).toThrow(/no global beforeAll\/afterAll/);
});
