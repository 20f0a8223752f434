// The same checks from CommonJS (require).
const assert = require("node:assert/strict");
const { InvalidOptionError, M3AggregatorCluster, M3IngestClient, registerResetStep, workerMetricPrefix } = require("m3-aggregator-testcontainers");
const internals = require("m3-aggregator-testcontainers/internals");

assert.equal(typeof M3AggregatorCluster.start, "function");
assert.equal(typeof M3IngestClient.connect, "function");
assert.equal(typeof registerResetStep, "function");
assert.match(workerMetricPrefix("abc123", {}), /^abc123\.w0\.$/);
assert.equal(typeof internals.planPorts, "function");
assert.throws(() => new M3AggregatorCluster({ nodes: 3 }), InvalidOptionError);
console.log("cjs consumer ok");
