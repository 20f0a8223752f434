/**
 * `await using` on a started cluster, without Docker: the handle's dispose is stop().
 * The type-level half: this file compiles only while the handle is AsyncDisposable.
 */
import { StartedM3AggregatorCluster } from "../../../src/cluster/started";

/** Never called: proves `await using` type-checks on what M3AggregatorCluster.start() returns. */
export async function scoped(start: () => Promise<StartedM3AggregatorCluster>): Promise<string> {
  await using cluster = await start();
  return cluster.getId();
}

describe("StartedM3AggregatorCluster[Symbol.asyncDispose]", () => {
  afterEach(() => jest.restoreAllMocks());

  // A handle without containers: only stop() is reached, and it is replaced.
  const handle = (): StartedM3AggregatorCluster => Object.create(StartedM3AggregatorCluster.prototype) as StartedM3AggregatorCluster;

  test("stop() runs once when the scope ends", async () => {
    const stop = jest.spyOn(StartedM3AggregatorCluster.prototype, "stop").mockResolvedValue(undefined);
    const steps: string[] = [];
    {
      await using cluster = handle();
      steps.push(`in scope, ${stop.mock.calls.length} stops`);
      void cluster;
    }
    steps.push(`after scope, ${stop.mock.calls.length} stops`);
    expect(steps).toEqual(["in scope, 0 stops", "after scope, 1 stops"]);
    expect(stop).toHaveBeenCalledWith(); // default options: a reuse-mode cluster is kept, as with stop()
  });

  test("stop() runs when the scope ends by a throw, and the throw goes on", async () => {
    const stop = jest.spyOn(StartedM3AggregatorCluster.prototype, "stop").mockResolvedValue(undefined);
    await expect((async () => {
      await using cluster = handle();
      void cluster;
      throw new Error("test body failed");
    })()).rejects.toThrow("test body failed");
    expect(stop).toHaveBeenCalledTimes(1);
  });

  test("a failing stop() rejects the scope's end", async () => {
    jest.spyOn(StartedM3AggregatorCluster.prototype, "stop").mockRejectedValue(new Error("docker gone"));
    await expect((async () => {
      await using cluster = handle();
      void cluster;
    })()).rejects.toThrow("docker gone");
  });
});
