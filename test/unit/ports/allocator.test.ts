import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { isPortFree, ownerProcessDead, PortAllocator, readReservation, reservePort, type Reservation } from "../../../src/ports";

const CHILD = path.join(__dirname, "reserve-child.ts");

/** Starts a reserving child (in-process tsx loader, so its pid is the one that reserves); resolves with the ports it printed. */
function reserveInChild(args: string[], children: ChildProcess[]): Promise<number[]> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(JSON.parse(out) as number[]);
    });
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before printing its ports: ${err}`)));
  });
}

/** The kernel's range, read here independently of the code under test. */
function kernelEphemeralRange(): [number, number] {
  const [from, to] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
  return [from!, to!];
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid!;
}

function writeRecord(dir: string, record: Reservation): void {
  fs.writeFileSync(path.join(dir, `${record.port}.json`), JSON.stringify(record));
}

describe("port allocator", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-ports-test-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const onLinux = process.platform === "linux" ? test : test.skip;

  onLinux("allocates outside the kernel's ephemeral range, reserved, bindable and distinct", async () => {
    const [lo, hi] = kernelEphemeralRange();
    const allocator = new PortAllocator({ cluster: "range-test", dir });
    const ports: number[] = [];
    for (let i = 0; i < 300; i++) ports.push(await allocator.allocate());
    expect(new Set(ports).size).toBe(300);
    const inside = ports.filter((p) => p >= lo && p <= hi);
    expect(inside).toEqual([]);
    expect(ports.every((p) => p >= 1024 && p <= 65535)).toBe(true);
    for (const p of ports.slice(0, 20)) {
      expect(readReservation(p, dir)).toMatchObject({ port: p, pid: process.pid, cluster: "range-test", kept: false });
      expect(await isPortFree(p)).toBe(true);
    }
    allocator.releaseAll();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test("ownerPid: a node added by another process reserves under the cluster owner's pid, so a sweep of dead owners keeps it while the owner lives", async () => {
    const owner = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      const allocator = new PortAllocator({ cluster: "owned", dir, ownerPid: owner.pid! });
      const port = await allocator.allocate();
      expect(readReservation(port, dir)).toMatchObject({ port, pid: owner.pid, cluster: "owned" });
      expect(ownerProcessDead(readReservation(port, dir)!)).toBe(false);
      owner.kill("SIGKILL");
      await new Promise((resolve) => owner.once("exit", resolve));
      expect(ownerProcessDead(readReservation(port, dir)!)).toBe(true);
    } finally {
      owner.kill("SIGKILL");
    }
  });

  test("two child processes reserving from the same narrow range get disjoint ports", async () => {
    // 400 ports each out of 1000: they collide constantly, so only the reservation keeps them apart.
    const startAt = Date.now() + 2_500; // both children are loaded by then, and race
    const args = [dir, String(startAt), "400", "62000", "62999"];
    const children: ChildProcess[] = [];
    let portsA: number[];
    let portsB: number[];
    try {
      [portsA, portsB] = await Promise.all([reserveInChild(args, children), reserveInChild(args, children)]);
    } finally {
      for (const c of children) c.stdin!.end(); // both held their ports until now
    }
    expect(portsA).toHaveLength(400);
    expect(portsB).toHaveLength(400);
    const overlap = portsA.filter((p) => portsB.includes(p));
    expect(overlap).toEqual([]);
    // Every port's file names the child that got it.
    const owners = new Set([...portsA, ...portsB].map((p) => readReservation(p, dir)?.cluster));
    expect(owners.size).toBe(2);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".json"))).toHaveLength(800);
  }, 60_000);

  test("a reservation of a dead process is reclaimed; one of a live process is not", async () => {
    const allocator = new PortAllocator({ cluster: "sweep-test", dir, ranges: [{ from: 63000, to: 63001 }] });
    const host = os.hostname();
    const dead = await deadPid();
    writeRecord(dir, { port: 63000, pid: dead, hostname: host, cluster: "gone", kept: false, at: new Date().toISOString() });
    // This test process is alive: its reservation for another cluster must stand.
    writeRecord(dir, { port: 63001, pid: process.pid, hostname: host, cluster: "alive", kept: false, at: new Date().toISOString() });

    expect(await allocator.tryReserve(63000)).toBeUndefined();
    expect(readReservation(63000, dir)).toMatchObject({ cluster: "sweep-test", pid: process.pid });
    expect(await allocator.tryReserve(63001)).toEqual({ reason: "reserved", by: { cluster: "alive", pid: process.pid } });
    expect(readReservation(63001, dir)).toMatchObject({ cluster: "alive" });
    // With only the live one left in range, allocation gives up rather than take it.
    await expect(allocator.allocate(new Set([63000]))).rejects.toThrow(/no free port found/);
  });

  test("a port something listens on is not handed out, and its reservation is dropped", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const busy = (server.address() as net.AddressInfo).port;
    try {
      const allocator = new PortAllocator({ cluster: "busy-test", dir, ranges: [{ from: busy, to: busy }] });
      expect(await allocator.tryReserve(busy)).toEqual({ reason: "in use" });
      expect(readReservation(busy, dir)).toBeUndefined();
    } finally {
      server.close();
    }
  });

  test("reservePort is exclusive: the second caller is refused and the first record stays whole", () => {
    expect(reservePort(64000, "first", dir)).toBe(true);
    expect(reservePort(64000, "second", dir)).toBe(false);
    expect(readReservation(64000, dir)).toMatchObject({ port: 64000, cluster: "first", pid: process.pid });
    expect(fs.readdirSync(dir)).toEqual(["64000.json"]); // no temp file left behind
  });
});
