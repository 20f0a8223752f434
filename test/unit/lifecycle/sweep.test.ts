import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { containersWithLabel } from "../../../src/docker/client";
import { keepReservations, listReservations, type Reservation } from "../../../src/ports";
import { sweepReservations } from "../../../src/lifecycle/sweep";

// Docker's answer is the input of the kept-cluster rule; the test decides which clusters still have containers.
jest.mock("../../../src/docker/client", () => ({ containersWithLabel: jest.fn(), removeContainers: jest.fn() }));
const listed = containersWithLabel as jest.MockedFunction<typeof containersWithLabel>;

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

describe("sweeping reservations", () => {
  let dir: string;
  const at = new Date(Date.now() - 60_000).toISOString();
  const write = (r: Reservation) => fs.writeFileSync(path.join(dir, `${r.port}.json`), JSON.stringify(r));
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-sweep-test-"));
    listed.mockReset();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("removes those of dead processes and of kept clusters without containers; keeps the rest", async () => {
    const host = os.hostname();
    const dead = await deadPid();
    write({ port: 20001, pid: dead, hostname: host, cluster: "crashed", kept: false, at });
    write({ port: 20002, pid: process.pid, hostname: host, cluster: "running", kept: false, at });
    write({ port: 20003, pid: dead, hostname: host, cluster: "kept-alive", kept: true, at, keptAt: at });
    write({ port: 20004, pid: dead, hostname: host, cluster: "kept-gone", kept: true, at, keptAt: at });
    write({ port: 20005, pid: dead, hostname: "another-host", cluster: "elsewhere", kept: false, at });
    fs.writeFileSync(path.join(dir, `.tmp-${dead}-abcd`), "{}"); // a crash between write and link
    listed.mockResolvedValue([{ id: "c1", name: "etcd", state: "running", labels: { "org.m3agg.cluster": "kept-alive" } }]);

    expect((await sweepReservations(dir)).sort()).toEqual([20001, 20004]);
    expect(listReservations(dir).map((r) => r.cluster).sort()).toEqual(["elsewhere", "kept-alive", "running"]);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".tmp-"))).toEqual([]);
  });

  test("a kept reservation outlives its dead process while Docker lists its cluster", async () => {
    write({ port: 20010, pid: await deadPid(), hostname: os.hostname(), cluster: "reuse-x", kept: false, at });
    expect(keepReservations("reuse-x", dir)).toEqual([20010]);
    listed.mockResolvedValue([{ id: "c", name: "n", state: "running", labels: { "org.m3agg.cluster": "reuse-x" } }]);
    await new Promise((resolve) => setTimeout(resolve, 5)); // keptAt strictly before the sweep's container list
    expect(await sweepReservations(dir)).toEqual([]);
    listed.mockResolvedValue([]);
    expect(await sweepReservations(dir)).toEqual([20010]);
  });

  test("Docker is not asked when nothing is kept", async () => {
    write({ port: 20020, pid: process.pid, hostname: os.hostname(), cluster: "running", kept: false, at });
    expect(await sweepReservations(dir)).toEqual([]);
    expect(listed).not.toHaveBeenCalled();
  });
});
