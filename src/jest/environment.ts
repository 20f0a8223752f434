/**
 * Jest test environment (Node) that counts failed tests and hooks, so
 * {@link useM3AggregatorCluster} can write the cluster's logs when something
 * failed. Use with `testEnvironment: "m3-aggregator-testcontainers/jest-environment"`.
 */
import type { Circus } from "@jest/types";
import { TestEnvironment } from "jest-environment-node";
import { FAILURE_COUNTER } from "./failure-counter";

class M3AggregatorTestEnvironment extends TestEnvironment {
  handleTestEvent(event: Circus.Event): void {
    if (event.name === "test_fn_failure" || event.name === "hook_failure") {
      const counters = this.global as unknown as Record<string, number>;
      counters[FAILURE_COUNTER] = (counters[FAILURE_COUNTER] ?? 0) + 1;
    }
  }
}

// module.exports = the class (not exports.default): jest, Node's ESM loader and bundlers all find it
// the same way (publint and arethetypeswrong check this on the packed tarball).
export = M3AggregatorTestEnvironment;
