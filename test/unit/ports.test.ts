import * as net from "node:net";
import { describePorts, isPortFree, planPorts, PortInUseError, seedNodePorts } from "../../src/ports";

function listen(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve(server));
  });
}

describe("port plan", () => {
  test("seed layout: node i has HTTP base+1+10(i-1), metrics +2, TCP +3", () => {
    expect(seedNodePorts(6000, 3)).toEqual([
      { http: 6001, metrics: 6002, tcp: 6003 },
      { http: 6011, metrics: 6012, tcp: 6013 },
      { http: 6021, metrics: 6022, tcp: 6023 },
    ]);
  });

  test("get-port plan: every port distinct and free, two plans never overlap", async () => {
    const [a, b] = await Promise.all([planPorts({ nodes: 4 } as never), planPorts({ nodes: 4 } as never)]);
    const portsA = describePorts(a!).map((p) => p.port);
    const portsB = describePorts(b!).map((p) => p.port);
    expect(portsA).toHaveLength(4 + 3 * 4);
    expect(new Set([...portsA, ...portsB]).size).toBe(portsA.length + portsB.length);
    for (const port of portsA) expect(await isPortFree(port)).toBe(true);
  });

  test("basePort plan uses the seed layout", async () => {
    const server = await listen();
    const base = 20000 + Math.floor(Math.random() * 20000);
    server.close();
    const plan = await planPorts({ nodes: 2, basePort: base } as never);
    expect(plan.nodes).toEqual(seedNodePorts(base, 2));
  });

  test("a busy explicit port is named in the error", async () => {
    const server = await listen();
    const busy = (server.address() as net.AddressInfo).port;
    try {
      await expect(planPorts({ nodes: 2, coordinatorPort: busy } as never)).rejects.toThrow(PortInUseError);
      await expect(planPorts({ nodes: 2, coordinatorPort: busy } as never)).rejects.toThrow(`port ${busy} on 127.0.0.1 (coordinator admin API) is already in use`);
      await expect(planPorts({ nodes: 2, basePort: busy - 13 } as never)).rejects.toThrow(`port ${busy} on 127.0.0.1 (node 2 raw TCP)`);
    } finally {
      server.close();
    }
  });
});
