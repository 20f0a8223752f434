/**
 * The fault links of a cluster started with `faults: true`, as part of the pure cluster plan:
 * one Toxiproxy container (host network, API on the cluster's loopback host) with one proxy per
 * link, and the endpoints the rest of the plan writes instead of the direct ones:
 *
 *   node i → etcd        m3aggregator0i's kvClient dials <host>:<etcd proxy of i>     → etcd
 *   clients → node i     placement endpoint of i = <host>:<ingest proxy of i>        → node i raw TCP
 *   node i → sink        consumer placement endpoint m3agg-sink:<flush port>; each node's
 *                        /etc/hosts maps m3agg-sink to its own 127.0.1.<i> listener → the sink
 *   coordinator → etcd   the coordinator's etcd endpoint = <host>:<coordinator etcd proxy> → etcd
 *
 * The flush link needs the hostname: every node reads the same consumer placement, so one
 * endpoint must reach a different proxy from each node. Peer aggregators forward to each other
 * through the placement endpoints, hence through the ingest proxies too.
 */

import type { FaultPorts } from "../model/network";

export type { FaultPorts } from "../model/network";

/** A link of one aggregator node that can be faulted. */
export type NodeLink = "etcd" | "ingest" | "flush";
export const NODE_LINKS: readonly NodeLink[] = ["etcd", "ingest", "flush"];

/** Host name of the sink in the consumer placement when faults are on (resolved per node). */
export const SINK_HOSTNAME = "m3agg-sink";

/** One proxy of the plan. */
export interface ProxyPlan {
  /** Toxiproxy's name of it: `<node>.<link>` or `m3coordinator.etcd`. */
  name: string;
  link: NodeLink;
  /** Instance id, or "m3coordinator". */
  owner: string;
  listen: string;
  upstream: string;
}

/** The faults part of a cluster plan. */
export interface FaultsPlan {
  image: string;
  /** Toxiproxy's API: listens on `<host>:<api>`. */
  apiHost: string;
  apiPort: number;
  apiUrl: string;
  /** Toxiproxy's command line. */
  args: string[];
  proxies: ProxyPlan[];
  /** Per node, in node order: what the node's config and the placement use instead of the direct endpoints. */
  nodes: Array<{ id: string; etcdEndpoint: string; ingestEndpoint: string; extraHosts: Record<string, string> }>;
  /** etcd endpoint (host:port) the coordinator's config uses. */
  coordinatorEtcdEndpoint: string;
  /** Endpoint of the sink in the consumer placement, and where the sink itself listens. */
  sinkPlacementEndpoint: string;
  sinkListen: { host: string; port: number };
}

/** Loopback address of node `index`'s (0-based) flush proxy: 127.0.1.<index+1>. */
export function flushAddressOf(index: number): string {
  if (index < 0 || index > 253) throw new Error(`node index ${index}: flush proxies exist for at most 254 nodes`);
  return `127.0.1.${index + 1}`;
}

export interface FaultsPlanInput {
  image: string;
  host: string;
  etcdClientPort: number;
  nodes: Array<{ id: string; tcpPort: number }>;
  ports: FaultPorts;
}

/** What node `index` (0-based) dials and resolves instead of the direct endpoints. */
export function nodeLinks(host: string, ports: FaultPorts, index: number): FaultsPlan["nodes"][number] & { flushListen: string } {
  const p = ports.nodes[index];
  if (p === undefined) throw new Error(`no fault ports for node ${index + 1}`);
  return {
    id: "",
    etcdEndpoint: `${host}:${p.etcd}`,
    ingestEndpoint: `${host}:${p.ingest}`,
    extraHosts: { [SINK_HOSTNAME]: flushAddressOf(index) },
    flushListen: `${flushAddressOf(index)}:${ports.flush}`,
  };
}

/** The faults plan: pure (same inputs, same plan). */
export function planFaults(input: FaultsPlanInput): FaultsPlan {
  const { host, ports } = input;
  if (ports.nodes.length !== input.nodes.length) throw new Error(`fault ports for ${ports.nodes.length} nodes, cluster has ${input.nodes.length}`);
  const at = (port: number) => `${host}:${port}`;
  const etcd = at(input.etcdClientPort);
  const sink = at(ports.sink);
  const proxies: ProxyPlan[] = [];
  const nodes = input.nodes.map((node, i) => {
    const { flushListen, ...links } = nodeLinks(host, ports, i);
    proxies.push(
      { name: `${node.id}.etcd`, link: "etcd", owner: node.id, listen: links.etcdEndpoint, upstream: etcd },
      { name: `${node.id}.ingest`, link: "ingest", owner: node.id, listen: links.ingestEndpoint, upstream: at(node.tcpPort) },
      { name: `${node.id}.flush`, link: "flush", owner: node.id, listen: flushListen, upstream: sink },
    );
    return { ...links, id: node.id };
  });
  proxies.push({ name: "m3coordinator.etcd", link: "etcd", owner: "m3coordinator", listen: at(ports.coordinatorEtcd), upstream: etcd });
  return {
    image: input.image,
    apiHost: host,
    apiPort: ports.api,
    apiUrl: `http://${at(ports.api)}`,
    args: ["-host", host, "-port", String(ports.api)],
    proxies,
    nodes,
    coordinatorEtcdEndpoint: at(ports.coordinatorEtcd),
    sinkPlacementEndpoint: `${SINK_HOSTNAME}:${ports.flush}`,
    sinkListen: { host, port: ports.sink },
  };
}
