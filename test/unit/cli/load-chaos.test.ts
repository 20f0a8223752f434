/** `m3agg load --chaos plan.json --report file` and `up --faults`: parsed, and bad steps refused before any cluster starts. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseLoadArgs } from "../../../src/cli/load";
import { parseUp, UsageError } from "../../../src/cli/up-args";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-chaos-cli-"));
const planFile = (steps: unknown) => {
  const file = path.join(dir, `plan-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(steps));
  return file;
};
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("m3agg load --chaos / --report, up --faults", () => {
  test("--faults sets the option", () => {
    expect(parseUp(["--faults"], {}).options.faults).toBe(true);
  });

  test("a plan file (array or { steps }) and a report file", () => {
    const steps = [{ at: "5s", do: "kill-leader", shardSet: 1 }, { at: "10s", do: "cut", node: "m3aggregator01", link: "etcd", for: "8s" }];
    const command = parseLoadArgs(["--nodes", "2", "--faults", "--duration", "30", "--chaos", planFile(steps), "--report", "r.html"], {});
    expect(command.load.chaos).toEqual(steps);
    expect(command.load.report).toBe("r.html");
    expect(command.cluster.faults).toBe(true);
    expect(parseLoadArgs(["--duration", "30", "--chaos", planFile({ steps: [{ at: "1s", do: "restart", node: 2 }] })], {}).load.chaos).toHaveLength(1);
  });

  test.each([
    [["--duration", "30", "--chaos", "/nonexistent/plan.json"], "--chaos /nonexistent/plan.json: cannot be read"],
    [["--duration", "30", "--chaos"], "--chaos needs a JSON file of steps"],
    [["--count", "1000", "--chaos", "PLAN:[{\"at\":\"1s\",\"do\":\"restart\",\"node\":1}]"], "--chaos needs --duration"],
    [["--nodes", "2", "--duration", "30", "--chaos", "PLAN:[{\"at\":\"1s\",\"do\":\"restart\",\"node\":3}]"], `chaos step 1 {"at":"1s","do":"restart","node":3}: "node" 3 is not a node number (1..2`],
    [["--duration", "30", "--chaos", "PLAN:[{\"at\":\"1s\",\"do\":\"cut\",\"node\":1,\"link\":\"etcd\"}]"], `"cut" needs a cluster started with faults: true`],
    [["--duration", "30", "--chaos", "PLAN:{\"do\":1}"], "must hold an array of steps"],
  ])("refused before a cluster starts: %j", (args, message) => {
    const resolved = args.map((a) => (a.startsWith("PLAN:") ? planFile(JSON.parse(a.slice(5))) : a));
    let error: unknown;
    try {
      parseLoadArgs(resolved, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(message);
  });
});
