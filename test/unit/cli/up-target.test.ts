import { parseArgs, UsageError } from "../../../src/cli/args";
import { M3AggregatorCluster } from "../../../src/cluster/start";
import { InvalidOptionError } from "../../../src/model/options";

describe("m3agg up --target", () => {
  test("--target kubernetes with --kubeconfig, --context and --registry is the kubernetes target option", () => {
    expect(parseArgs(["up", "--target", "kubernetes", "--kubeconfig", "/k", "--context", "c", "--registry", "r:5000", "--nodes", "2"], {})).toEqual({
      command: "up", json: false, detach: false, options: { nodes: 2, target: { kubernetes: { kubeconfig: "/k", context: "c", registry: "r:5000" } } },
    });
    expect(parseArgs(["up", "--target", "docker"], {})).toMatchObject({ options: {} });
  });

  test("load --target kubernetes: the load as a Job (--ids, --increments, --rate), the rest the flags of up --target kubernetes", () => {
    expect(parseArgs(["load", "--target", "kubernetes", "--registry", "r:5000", "--nodes", "2", "--ids", "50", "--increments", "20", "--rate", "1000", "--json"], {})).toEqual({
      command: "load", clusterId: undefined, json: true, load: {},
      cluster: { nodes: 2, target: { kubernetes: { registry: "r:5000" } } },
      job: { ids: 50, increments: 20, rate: 1000 },
    });
    expect(parseArgs(["load", "--target", "kubernetes", "--rate", "max"], {})).toMatchObject({ job: {} });
  });

  test.each([
    [["up", "--target", "nomad"], /--target takes docker, swarm or kubernetes, got "nomad"/],
    [["up", "--target", "swarm"], /--target swarm needs the swarm's engines: --engine HOST/],
    [["up", "--engine", "e0", "--target", "kubernetes"], /--engine is for --target swarm/],
    [["up", "--kubeconfig", "/k"], /--kubeconfig is for --target kubernetes/],
    [["up", "--target", "docker", "--registry", "r"], /--registry is for --target kubernetes/],
    [["up", "--target", "kubernetes", "--detach"], /--detach does not apply to --target kubernetes: the namespace belongs to this process/],
    [["load", "--target", "swarm"], /--target is not a load flag except --target kubernetes/],
    [["load", "--target", "kubernetes", "--mix", "gauge"], /--mix does not apply to load --target kubernetes: the load Job sends counters only/],
    [["load", "--target", "kubernetes", "--duration", "10"], /--duration does not apply to load --target kubernetes/],
    [["load", "--target", "kubernetes", "--backend", "sink"], /load --target kubernetes keeps the cluster's default backend/],
    [["load", "--target", "kubernetes", "--increments", "0"], /--increments takes a positive whole number, got "0"/],
    [["load", "--increments", "5"], /--increments is for --target kubernetes/],
  ])("%j is a usage error naming the rule", (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(UsageError);
    expect(() => parseArgs(argv, {})).toThrow(message);
  });

  test.each([
    [["--base-port", "7000"], /basePort.*applies to target "docker" only/],
    [["--backend", "sink"], /backend.*on kubernetes the pods cannot reach an in-process sink/],
    [["--cluster-id", "Not_A_Label"], /clusterId.*names a namespace/],
  ])("up --target kubernetes %j: the option check names the rule", (flags, message) => {
    const command = parseArgs(["up", "--target", "kubernetes", ...flags], {});
    if (command.command !== "up") throw new Error("not up");
    expect(() => new M3AggregatorCluster(command.options)).toThrow(InvalidOptionError);
    expect(() => new M3AggregatorCluster(command.options)).toThrow(message);
  });
});
