import { bindFailures, PortBindRetriesExhaustedError } from "../../../src/ports";

// Lines as the programs printed them when their port was held (our images; only the port numbers and the
// delve host changed): m3aggregator v1.5.0, etcd 3.5.17, delve in the debug image.
const M3_METRICS = '{"level":"fatal","ts":1795551793.1048,"msg":"error creating metrics root scope","error":"prometheus handler listen address error: listen tcp 127.0.0.1:43737: bind: address already in use"}';
const ETCD = '{"level":"warn","ts":"2026-11-24T20:50:54.204145Z","caller":"etcdmain/etcd.go:146","msg":"failed to start etcd","error":"listen tcp 127.0.0.1:12379: bind: address already in use"}';
const DELVE = "couldn't start listener: listen tcp 127.0.0.2:40000: bind: address already in use";

describe("bind failures in log lines", () => {
  test("m3, etcd and delve lines are recognised with their port", () => {
    expect(bindFailures([
      { component: "m3aggregator02", lines: ["starting", M3_METRICS] },
      { component: "etcd", lines: [ETCD] },
      { component: "m3aggregator01", lines: [DELVE] },
      { component: "m3coordinator", lines: ["all fine"] },
    ])).toEqual([
      { component: "m3aggregator02", port: 43737, line: M3_METRICS },
      { component: "etcd", port: 12379, line: ETCD },
      { component: "m3aggregator01", port: 40000, line: DELVE },
    ]);
  });

  test("a line without a port still counts; other errors do not", () => {
    expect(bindFailures([{ component: "x", lines: ["bind: address already in use"] }])).toEqual([{ component: "x", port: undefined, line: "bind: address already in use" }]);
    expect(bindFailures([{ component: "x", lines: ["connection refused", "listen tcp 127.0.0.1:1: bind: permission denied"] }])).toEqual([]);
  });

  test("the exhausted error names every attempt with its ports and line", () => {
    const error = new PortBindRetriesExhaustedError([
      { ports: [{ port: 43737, purpose: "node 2 metrics" }, { port: 43738, purpose: "etcd client" }], failures: [{ component: "m3aggregator02", port: 43737, line: M3_METRICS }] },
      { ports: [{ port: 12379, purpose: "etcd client" }], failures: [{ component: "etcd", port: 12379, line: ETCD }] },
    ]);
    expect(error.message).toContain("in each of 2 attempts");
    expect(error.message).toContain(`attempt 1: m3aggregator02 could not bind 43737 (node 2 metrics): ${M3_METRICS}`);
    expect(error.message).toContain("ports: node 2 metrics 43737, etcd client 43738");
    expect(error.message).toContain(`attempt 2: etcd could not bind 12379 (etcd client): ${ETCD}`);
  });
});
