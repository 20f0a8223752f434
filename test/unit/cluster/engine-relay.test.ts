/**
 * This process's end of the namespace relays, against the relay program itself
 * (scripts/netns-relay.mjs, run here in this network namespace: it only ever dials 127.0.0.1 and
 * binds the address it is given), with plain TCP servers as the "published ports" and the sink.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { RelayDialer, SinkRelay } from "../../../src/cluster/engine-relay";
import { poll } from "../../../src/util/poll";

const RELAY = path.resolve(__dirname, "../../../scripts/netns-relay.mjs");
const SINK_ADDRESS = "127.0.0.19";
let dir: string;
let relay: ChildProcess;
const servers: net.Server[] = [];

/** A TCP server on 127.0.0.1 that greets each connection with `<name>:` and echoes what it receives. */
async function echoServer(name: string): Promise<number> {
  const server = net.createServer((socket) => {
    socket.write(`${name}:`);
    socket.pipe(socket);
    socket.on("error", () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Sends `text` and resolves with the first `expectLength` characters that come back. */
function exchange(port: number, text: string, expectLength: number, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => socket.write(text));
    let got = "";
    socket.on("data", (d) => {
      got += d.toString();
      if (got.length >= expectLength) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-relay-"));
  // ADDRESS: a loopback address of its own here (in a namespace: the engine's address); the sink side listens on :19000.
  relay = spawn(process.execPath, [RELAY, path.join(dir, "out.sock"), path.join(dir, "sink.sock"), SINK_ADDRESS], { stdio: "ignore" });
  await poll(() => (fs.existsSync(path.join(dir, "out.sock")) ? true : undefined), { timeoutMs: 10_000, what: "the relay's socket" });
});

afterAll(async () => {
  relay.kill();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a 127.0.0.1 port per published port: bytes go both ways, to the right port, the header never leaks", async () => {
  const [a, b] = [await echoServer("a"), await echoServer("b")];
  const dialer = new RelayDialer(path.join(dir, "out.sock"));
  try {
    const [la, lb] = [await dialer.expose(a), await dialer.expose(b)];
    expect(await dialer.expose(a)).toBe(la); // one listener per port
    const payload = "x".repeat(200_000);
    expect(await exchange(la, payload, payload.length + 2) === `a:${payload}`).toBe(true);
    expect(await exchange(lb, "hello", 7)).toBe("b:hello");
  } finally {
    await dialer.close();
  }
});

test("the sink side: connections to ADDRESS:19000 reach the process's sink port through the sink socket", async () => {
  const sinkPort = await echoServer("sink");
  const sink = await SinkRelay.start(path.join(dir, "sink.sock"), sinkPort);
  try {
    expect(await exchange(19000, "m3msg bytes", 16, SINK_ADDRESS)).toBe("sink:m3msg bytes");
  } finally {
    await sink.close();
  }
});
