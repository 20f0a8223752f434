/** The sink's producer lookup: a child process with an aggregator's env var dials; /proc names it. */
import { spawn } from "node:child_process";
import * as net from "node:net";
import { identifyProducer } from "../../../src/sink/producer";
import { poll } from "../../../src/util/poll";

test("a connection from a process with M3AGGREGATOR_HOST_ID is attributed to that instance id; an unknown port to nobody", async () => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const child = spawn(process.execPath, ["-e", `require("net").connect(${port}, "127.0.0.1"); setInterval(() => {}, 1000)`], {
    env: { ...process.env, M3AGGREGATOR_HOST_ID: "m3aggregator42" }, stdio: "ignore",
  });
  try {
    const socket = await poll(() => sockets[0], { timeoutMs: 10_000, intervalMs: 20, what: "the child's connection" });
    expect(await identifyProducer(socket.remotePort as number, port)).toBe("m3aggregator42");
    expect(await identifyProducer(1, port)).toBeUndefined();
  } finally {
    child.kill();
    for (const s of sockets) s.destroy();
    server.close();
  }
});
