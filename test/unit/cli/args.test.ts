import { parseArgs, UsageError } from "../../../src/cli/args";

describe("m3agg arguments", () => {
  test("flags map to options", () => {
    expect(parseArgs(["up", "--nodes", "6", "--rf", "3", "--base-port", "7000", "--backend", "logging", "--json"], {})).toEqual({
      command: "up", json: true, detach: false, options: { nodes: 6, rf: 3, basePort: 7000, backend: "logging" },
    });
  });

  test("the seed's env vars are read, flags win over them", () => {
    const env = { M3_AGGREGATOR_NODE_COUNT: "6", M3_AGGREGATOR_REPLICA_FACTOR: "3", M3_AGGREGATOR_BASE_PORT: "6000" };
    expect(parseArgs(["up"], env)).toMatchObject({ options: { nodes: 6, rf: 3, basePort: 6000 } });
    expect(parseArgs(["up", "--rf", "2"], env)).toMatchObject({ options: { nodes: 6, rf: 2 } });
  });

  test.each([
    [["up", "--nodes"], /--nodes needs a value/],
    [["up", "--nodes", "four"], /--nodes takes a whole number, got "four"/],
    [["up", "--verbose"], /unknown flag "--verbose"/],
    [["start"], /unknown command "start"/],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(UsageError);
    expect(() => parseArgs(argv, {})).toThrow(message);
  });

  test("--detach means a kept (reuse-mode) cluster", () => {
    expect(parseArgs(["up", "--detach"], {})).toMatchObject({ detach: true, options: { reuse: true } });
  });

  test("cluster commands take --cluster and their own flags only", () => {
    expect(parseArgs(["down", "--all"], {})).toEqual({ command: "down", target: { clusterId: undefined }, all: true, json: false });
    expect(parseArgs(["send", "--cluster", "c1", "--node", "2"], {})).toMatchObject({ command: "send", target: { clusterId: "c1" }, node: "2" });
    expect(parseArgs(["logs", "etcd", "--tail", "5"], {})).toEqual({ command: "logs", target: { clusterId: undefined }, component: "etcd", tail: 5 });
    expect(() => parseArgs(["status", "--all"], {})).toThrow('unknown flag "--all"');
    expect(() => parseArgs(["down", "--all", "--cluster", "x"], {})).toThrow("exclude each other");
    expect(() => parseArgs(["status", "extra"], {})).toThrow("status takes no arguments");
    expect(() => parseArgs(["send", "--cluster"], {})).toThrow("--cluster needs a value");
  });

  test("a bad seed env var is a usage error naming it", () => {
    expect(() => parseArgs(["up"], { M3_AGGREGATOR_NODE_COUNT: "x" })).toThrow("M3_AGGREGATOR_NODE_COUNT takes a whole number");
  });
});

describe("m3agg debug flags", () => {
  test("--debug, --debug-base-port, --debug-wait and the seed's debug env vars", () => {
    expect(parseArgs(["up", "--debug", "--debug-base-port", "40000", "--debug-wait"], {})).toMatchObject({
      options: { debug: { basePort: 40000, waitForDebugger: true } },
    });
    expect(parseArgs(["up"], { M3_AGGREGATOR_DEBUG_MODE: "true", M3_AGGREGATOR_DEBUG_BASE_PORT: "41000" })).toMatchObject({
      options: { debug: { basePort: 41000 } },
    });
    expect(parseArgs(["up"], { M3_AGGREGATOR_DEBUG_MODE: "false" })).not.toHaveProperty("options.debug");
    expect(() => parseArgs(["up", "--debug-wait"], {})).toThrow("need --debug");
  });
});

describe("m3agg send metrics", () => {
  test("--counter/--gauge/--timer become metrics; bad values are usage errors", () => {
    expect(parseArgs(["send", "--counter", "a=3", "--gauge", "b=1.5", "--timer", "c=1,2,3"], {})).toMatchObject({
      command: "send", metrics: [{ type: "counter", id: "a", value: 3n }, { type: "gauge", id: "b", value: 1.5 }, { type: "timer", id: "c", values: [1, 2, 3] }],
    });
    expect(() => parseArgs(["send", "--counter", "a=1.5"], {})).toThrow("a counter takes a whole number");
    expect(() => parseArgs(["send", "--gauge", "novalue"], {})).toThrow("--gauge takes id=value");
    expect(() => parseArgs(["send", "--counter", "a=1", "--node", "1"], {})).toThrow("--node is for raw bytes");
  });
});
