import { parseArgs, UsageError } from "../../src/cli/args";

describe("m3agg arguments", () => {
  test("flags map to options", () => {
    expect(parseArgs(["up", "--nodes", "6", "--rf", "3", "--base-port", "7000", "--backend", "logging", "--json"], {})).toEqual({
      command: "up", json: true, options: { nodes: 6, rf: 3, basePort: 7000, backend: "logging" },
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

  test("a bad seed env var is a usage error naming it", () => {
    expect(() => parseArgs(["up"], { M3_AGGREGATOR_NODE_COUNT: "x" })).toThrow("M3_AGGREGATOR_NODE_COUNT takes a whole number");
  });
});
