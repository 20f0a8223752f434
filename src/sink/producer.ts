/**
 * Which process dialed the sink: the m3msg producer (an aggregator) behind a connection. The sink
 * sees only `127.0.0.1:<port>` (host networking), so on Linux it looks the socket up in
 * /proc/net/tcp{,6} (the inode of the connection from that port to the sink), then finds the process
 * holding that inode among the processes whose environment names an aggregator
 * (`M3AGGREGATOR_HOST_ID=<instance id>`, set by the fixture's plan). Needs read access to the
 * aggregators' /proc entries (same user, or root); elsewhere it resolves to undefined.
 */
import * as fs from "node:fs/promises";

const hexPort = (port: number) => port.toString(16).toUpperCase().padStart(4, "0");

async function socketInode(localPort: number, remotePort: number): Promise<string | undefined> {
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await fs.readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if ((f[1] as string).endsWith(`:${hexPort(localPort)}`) && (f[2] as string).endsWith(`:${hexPort(remotePort)}`)) return f[9];
    }
  }
  return undefined;
}

/** The instance id of the aggregator whose connection comes from `producerPort` to the sink's `sinkPort`, or undefined. */
export async function identifyProducer(producerPort: number, sinkPort: number): Promise<string | undefined> {
  if (process.platform !== "linux") return undefined;
  const inode = await socketInode(producerPort, sinkPort);
  if (inode === undefined || inode === "0") return undefined;
  const target = `socket:[${inode}]`;
  const pids = (await fs.readdir("/proc").catch(() => [] as string[])).filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    const environ = await fs.readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
    const match = /(?:^|\0)M3AGGREGATOR_HOST_ID=([^\0]+)/.exec(environ);
    if (match === null) continue;
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      if ((await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === target) return match[1];
    }
  }
  return undefined;
}
