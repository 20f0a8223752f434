// An ES module importing the package (Node's ESM loader over the CommonJS build): named exports
// resolve, and a bad option fails before anything starts.
import assert from "node:assert/strict";
import { InvalidOptionError, M3AggregatorCluster, M3IngestClient, registerResetStep, workerMetricPrefix } from "m3-aggregator-testcontainers";
import * as internals from "m3-aggregator-testcontainers/internals";

assert.equal(typeof M3AggregatorCluster.start, "function");
assert.equal(typeof M3IngestClient.connect, "function");
assert.equal(typeof registerResetStep, "function");
assert.match(workerMetricPrefix("abc123", {}), /^abc123\.w0\.$/);
assert.equal(typeof internals.planPorts, "function");
assert.throws(() => new M3AggregatorCluster({ nodes: 3 }), InvalidOptionError);
console.log("esm consumer ok");
