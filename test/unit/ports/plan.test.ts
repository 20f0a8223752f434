import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { describePorts, isPortFree, listReservations, planPorts, PortInUseError, releaseReservations, reservePort, seedNodePorts } from "../../../src/ports";

function listen(port = 0): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port }, () => resolve(server));
  });
}

/** The kernel's ephemeral range, read here independently of the code under test. */
function kernelEphemeralRange(): [number, number] {
  const [from, to] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
  return [from!, to!];
}

describe("port plan", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-plan-test-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("seed layout: node i has HTTP base+1+10(i-1), metrics +2, TCP +3", () => {
    expect(seedNodePorts(6000, 3)).toEqual([
      { http: 6001, metrics: 6002, tcp: 6003 },
      { http: 6011, metrics: 6012, tcp: 6013 },
      { http: 6021, metrics: 6022, tcp: 6023 },
    ]);
  });

  test("allocated plan: distinct, free, outside the ephemeral range, reserved for the cluster; two plans never overlap", async () => {
    const [a, b] = await Promise.all([
      planPorts({ nodes: 4, clusterId: "plan-a" } as never, { dir }),
      planPorts({ nodes: 4, clusterId: "plan-b" } as never, { dir }),
    ]);
    const portsA = describePorts(a).map((p) => p.port);
    const portsB = describePorts(b).map((p) => p.port);
    expect(portsA).toHaveLength(4 + 3 * 4);
    expect(new Set([...portsA, ...portsB]).size).toBe(portsA.length + portsB.length);
    for (const port of portsA) expect(await isPortFree(port)).toBe(true);
    if (process.platform === "linux") {
      const [lo, hi] = kernelEphemeralRange();
      expect([...portsA, ...portsB].filter((p) => p >= lo && p <= hi)).toEqual([]);
    }
    const reserved = listReservations(dir);
    expect(reserved.filter((r) => r.cluster === "plan-a").map((r) => r.port).sort()).toEqual([...portsA].sort());
    expect(releaseReservations("plan-a", dir).sort()).toEqual([...portsA].sort());
    expect(listReservations(dir).map((r) => r.cluster)).toEqual(Array(portsB.length).fill("plan-b"));
  });

  test("excluded ports are not allocated", async () => {
    const first = await planPorts({ nodes: 2, clusterId: "ex" } as never, { dir });
    const excluded = new Set(describePorts(first).map((p) => p.port));
    releaseReservations("ex", dir);
    const second = await planPorts({ nodes: 2, clusterId: "ex" } as never, { dir, exclude: excluded });
    expect(describePorts(second).filter((p) => excluded.has(p.port))).toEqual([]);
  });

  test("basePort plan uses the seed layout", async () => {
    const server = await listen();
    const base = 20000 + Math.floor(Math.random() * 10000);
    server.close();
    const plan = await planPorts({ nodes: 2, basePort: base } as never, { dir });
    expect(plan.nodes).toEqual(seedNodePorts(base, 2));
  });

  test("a busy explicit port is named in the error, and nothing stays reserved", async () => {
    const server = await listen();
    const busy = (server.address() as net.AddressInfo).port;
    try {
      await expect(planPorts({ nodes: 2, coordinatorPort: busy } as never, { dir })).rejects.toThrow(PortInUseError);
      await expect(planPorts({ nodes: 2, coordinatorPort: busy } as never, { dir })).rejects.toThrow(`port ${busy} on 127.0.0.1 (coordinator admin API) is already in use`);
      await expect(planPorts({ nodes: 2, basePort: busy - 13 } as never, { dir })).rejects.toThrow(`port ${busy} on 127.0.0.1 (node 2 raw TCP)`);
      expect(listReservations(dir)).toEqual([]);
    } finally {
      server.close();
    }
  });

  test("an explicit port another live process reserved is refused, naming that cluster, never moved", async () => {
    const port = 21000 + Math.floor(Math.random() * 5000);
    expect(reservePort(port, "other-cluster", dir)).toBe(true); // this (live) process, another cluster
    const error = await planPorts({ nodes: 2, etcdPort: port, clusterId: "mine" } as never, { dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as PortInUseError).port).toBe(port);
    expect((error as Error).message).toContain(`port ${port} on 127.0.0.1 (etcd client) is reserved by cluster other-cluster (pid ${process.pid})`);
    expect(listReservations(dir).map((r) => r.cluster)).toEqual(["other-cluster"]);
  });

  test("explicit ports that clash with each other are refused before anything is reserved", async () => {
    const port = 22000 + Math.floor(Math.random() * 5000);
    await expect(planPorts({ nodes: 2, etcdPort: port, coordinatorPort: port } as never, { dir }))
      .rejects.toThrow(`port ${port} on 127.0.0.1 (etcd client, also planned for coordinator admin API)`);
    expect(listReservations(dir)).toEqual([]);
  });
});
