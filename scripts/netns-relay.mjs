// Relay between a network namespace and the test process, through unix sockets (which belong to
// the file system, not to a network namespace). Started inside the namespace (nsenter --net) by
// scripts/swarm-engines.sh:
//
//   node netns-relay.mjs OUT_SOCKET SINK_SOCKET ADDRESS
//
// - OUT_SOCKET: a connection's first line is "<port>\n"; the rest is piped to 127.0.0.1:<port>
//   inside the namespace (the engine's published ports). The test process dials through it.
// - ADDRESS:<port> for each port of "SINK <port>" lines... kept simple: every TCP connection to
//   ADDRESS:19000 inside the namespace is piped to SINK_SOCKET, where the test process's sink
//   relay listens (containers reach it as host.docker.internal:19000).
// Only 127.0.0.1 and the namespace's own address are dialled or bound.
import * as fs from "node:fs";
import * as net from "node:net";

const [outSocket, sinkSocket, address] = process.argv.slice(2);
if (!outSocket || !sinkSocket || !address) {
  console.error("usage: netns-relay.mjs OUT_SOCKET SINK_SOCKET ADDRESS");
  process.exit(2);
}
export const SINK_RELAY_PORT = 19000;

const pipe = (a, b) => {
  a.on("error", () => b.destroy());
  b.on("error", () => a.destroy());
  a.pipe(b);
  b.pipe(a);
};

fs.rmSync(outSocket, { force: true });
net.createServer((client) => {
  let head = Buffer.alloc(0);
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const nl = head.indexOf(10);
    if (nl < 0) return;
    client.off("data", onData);
    const port = Number(head.subarray(0, nl).toString());
    const rest = head.subarray(nl + 1);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return client.destroy();
    client.pause();
    const upstream = net.connect({ host: "127.0.0.1", port }, () => {
      if (rest.length > 0) upstream.write(rest);
      pipe(client, upstream);
      client.resume();
    });
    upstream.on("error", () => client.destroy());
  };
  client.on("data", onData);
  client.on("error", () => undefined);
}).listen(outSocket);

net.createServer((container) => {
  pipe(container, net.connect({ path: sinkSocket }));
}).listen(SINK_RELAY_PORT, address);

process.on("SIGTERM", () => process.exit(0));
