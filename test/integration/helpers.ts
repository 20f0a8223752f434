import { containersWithLabel } from "../../src/docker/client";
import { LABEL_CLUSTER, LABEL_NODE } from "../../src/model/labels";

/** Containers of one cluster, asked from Docker by label (not from the fixture's own bookkeeping). */
export async function clusterContainers(clusterId: string): Promise<string[]> {
  return (await containersWithLabel(LABEL_CLUSTER, clusterId)).map((c) => c.name);
}

/** Instance ids of the cluster's aggregator containers, from their node labels (container names are Docker's random ones). */
export async function clusterNodeIds(clusterId: string): Promise<string[]> {
  return (await containersWithLabel(LABEL_CLUSTER, clusterId)).flatMap((c) => (c.labels[LABEL_NODE] === undefined ? [] : [c.labels[LABEL_NODE] as string])).sort();
}

/** A cluster id unique to this test run. */
export function uniqueClusterId(name: string): string {
  return `${name}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Listens on host:port until closed: a program outside the fixture holding a port. */
export function holdPort(port: number, host = "127.0.0.1"): Promise<import("node:net").Server> {
  const net = require("node:net") as typeof import("node:net");
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

/** A port free on 127.0.0.1 right now (the kernel's pick), for a process the test starts itself. */
export async function freePort(): Promise<number> {
  const net = require("node:net") as typeof import("node:net");
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = server.address() as import("node:net").AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
