/** `--target swarm` and the swarm's engines in up, load, down and status: flags, env vars and the rules' errors. */
import { parseArgs } from "../../../src/cli/args";
import { UsageError } from "../../../src/cli/up-args";
import { M3AggregatorCluster } from "../../../src/cluster/start";

const up = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const command = parseArgs(["up", ...args], env);
  if (command.command !== "up") throw new Error("not up");
  return command;
};

describe("up --target swarm", () => {
  test("takes the engines by --engine (the manager first), or by M3AGG_SWARM_ENGINES", () => {
    expect(up(["--target", "swarm", "--engine", "unix:///a.sock", "--engine", "tcp://b:2375"]).options.target).toEqual({ swarm: { engines: ["unix:///a.sock", "tcp://b:2375"] } });
    expect(up(["--target", "swarm"], { M3AGG_SWARM_ENGINES: "unix:///a.sock, unix:///b.sock" }).options.target).toEqual({ swarm: { engines: ["unix:///a.sock", "unix:///b.sock"] } });
    // Flags win over the env var.
    expect(up(["--target", "swarm", "--engine", "unix:///c.sock"], { M3AGG_SWARM_ENGINES: "unix:///a.sock" }).options.target).toEqual({ swarm: { engines: ["unix:///c.sock"] } });
  });

  test("--swarm-engines ID names the engines, relays and sink socket of scripts/swarm-engines.sh up ID", () => {
    expect(up(["--target", "swarm", "--swarm-engines", "demo"]).options.target).toEqual({ swarm: {
      engines: ["unix:///run/m3agg-swarm/demo/0.sock", "unix:///run/m3agg-swarm/demo/1.sock"],
      relays: { engines: ["/run/m3agg-swarm/demo/relay-0.sock", "/run/m3agg-swarm/demo/relay-1.sock"], sink: "/run/m3agg-swarm/demo/sink.sock" },
    } });
  });

  test("relays: one per engine, with the sink socket, by flags or env", () => {
    expect(up(["--target", "swarm", "--engine", "e0", "--engine", "e1", "--relay", "r0", "--relay", "r1", "--sink-relay", "s"]).options.target)
      .toEqual({ swarm: { engines: ["e0", "e1"], relays: { engines: ["r0", "r1"], sink: "s" } } });
    expect(up(["--target", "swarm"], { M3AGG_SWARM_ENGINES: "e0,e1", M3AGG_SWARM_RELAYS: "r0,r1", M3AGG_SWARM_SINK_RELAY: "s" }).options.target)
      .toEqual({ swarm: { engines: ["e0", "e1"], relays: { engines: ["r0", "r1"], sink: "s" } } });
  });

  test("a missing engine is a usage error naming the rule", () => {
    expect(() => up(["--target", "swarm"])).toThrow(UsageError);
    expect(() => up(["--target", "swarm"])).toThrow(/--target swarm needs the swarm's engines: --engine HOST .*M3AGG_SWARM_ENGINES.*--swarm-engines ID/);
  });

  test("the swarm flags' other rules, each named", () => {
    const cases: Array<[string[], RegExp]> = [
      [["--engine", "e0"], /--engine is for --target swarm/],
      [["--swarm-engines", "demo", "--relay", "r"], /--swarm-engines, --relay are for --target swarm/],
      [["--target", "swarm", "--engine", "e0", "--engine", "e1", "--relay", "r0", "--sink-relay", "s"], /--relay: one per engine, in the engines' order \(2 engines, 1 relays\)/],
      [["--target", "swarm", "--engine", "e0", "--relay", "r0"], /--relay needs --sink-relay SOCKET/],
      [["--target", "swarm", "--engine", "e0", "--sink-relay", "s"], /--sink-relay needs the engines' relays/],
      [["--target", "swarm", "--relay", "r0"], /relays without engines/],
      [["--target", "swarm", "--swarm-engines", "Demo!"], /--swarm-engines takes the ID .* got "Demo!"/],
      [["--target", "swarm", "--swarm-engines", "demo", "--engine", "e0"], /--swarm-engines .* excludes --engine/],
      [["--target", "nomad"], /--target takes docker, swarm or kubernetes, got "nomad"/],
    ];
    for (const [args, message] of cases) expect(() => up(args)).toThrow(message);
  });

  test("--detach leaves the stack running (no reuse key: a stack is not attached to by options); loopback options are refused by name", () => {
    const detached = up(["--target", "swarm", "--engine", "e0", "--detach"]);
    expect(detached.detach).toBe(true);
    expect(detached.options.reuse).toBeUndefined();
    expect(up(["--detach"]).options.reuse).toBe(true);
    expect(() => new M3AggregatorCluster(up(["--target", "swarm", "--engine", "unix:///e0.sock", "--base-port", "20000"]).options)).toThrow(/basePort/);
    expect(() => new M3AggregatorCluster(up(["--target", "swarm", "--engine", "e0"]).options)).toThrow(/invalid option target.swarm.engines=\["e0"\]: must be a list of Docker hosts/);
  });
});

describe("down and status on a swarm", () => {
  test("take the same engine flags; other commands do not", () => {
    const down = parseArgs(["down", "--swarm-engines", "demo", "--cluster", "c1"], {});
    expect(down).toMatchObject({ command: "down", target: { clusterId: "c1", swarm: { engines: ["unix:///run/m3agg-swarm/demo/0.sock", "unix:///run/m3agg-swarm/demo/1.sock"] } } });
    expect(parseArgs(["status", "--engine", "e0"], {})).toMatchObject({ command: "status", target: { swarm: { engines: ["e0"] } } });
    expect(parseArgs(["status"], { M3AGG_SWARM_ENGINES: "e0" })).toMatchObject({ command: "status", target: { swarm: { engines: ["e0"] } } });
    expect(parseArgs(["status"], {})).toMatchObject({ command: "status", target: { swarm: undefined } });
    expect(() => parseArgs(["send", "--engine", "e0"], {})).toThrow(/unknown flag "--engine"/);
  });
});
