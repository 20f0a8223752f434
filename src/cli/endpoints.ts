/** The endpoint table `m3agg up` prints (the seed's start_m3.sh summary, plus election state). */
import type { StartedM3AggregatorCluster } from "../cluster/started";
import type { StartedSwarmCluster } from "../cluster/swarm";
import type { ShardSetElection } from "../cluster/readiness";
import type { ClusterTls } from "../tls/material";

export interface EndpointSummary {
  clusterId: string;
  coordinatorAdminUrl: string;
  etcdEndpoint: string;
  nodes: Array<{
    id: string; shardSetId: number | undefined; role: string; tcp: string; http: string; metrics: string; debug?: string;
    /** Swarm: the index of the engine the node's task runs on, and where this process dialled its raw TCP endpoint. */
    engine?: number; dial?: string;
  }>;
  images: Record<string, string>;
  startupMs: number;
  m3Version: string;
  m3Source: string | null;
  tls: { mode: string; mutualTls: boolean; caFile: string; certFile: string; keyFile: string; serverName: string } | null;
  /** Swarm: the engines (the manager first) and relays the cluster was started on; down and status find it through them. */
  swarm?: { engines: string[]; relays?: { engines: string[]; sink: string } };
  /** Swarm: the images the start copied onto each engine (none when every engine had them). */
  loadedImages?: Record<string, readonly string[]>;
}

type NodeRow = EndpointSummary["nodes"][number];

/** One row per node: its shard set and election role, its endpoints, and what only its target has (`extra`). */
function nodeRows<N extends { id: string; getTcpEndpoint(): string; getHttpUrl(): string; getMetricsUrl(): string }>(
  nodes: readonly N[], election: ShardSetElection[], extra: (node: N) => Partial<NodeRow>): NodeRow[] {
  const roleOf = new Map(election.flatMap((s) => s.members.map((m) => [m.id, { shardSetId: s.shardSetId, role: m.electionState }] as const)));
  return nodes.map((n) => ({
    id: n.id,
    shardSetId: roleOf.get(n.id)?.shardSetId,
    role: roleOf.get(n.id)?.role ?? "unknown",
    tcp: n.getTcpEndpoint(),
    http: n.getHttpUrl(),
    metrics: n.getMetricsUrl(),
    ...extra(n),
  }));
}

/** The TLS files a client needs, or null when TLS is off. */
function tlsSummary(tls: ClusterTls | undefined): EndpointSummary["tls"] {
  return tls === undefined ? null
    : { mode: tls.mode, mutualTls: tls.mutualTls, caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, serverName: tls.serverName };
}

/** The endpoint summary of a swarm cluster: placement endpoints (DNS names of the stack's network) and where they were dialled. */
export function summarizeSwarm(cluster: StartedSwarmCluster, election: ShardSetElection[], relays: { engines: string[]; sink: string } | undefined): EndpointSummary {
  return {
    clusterId: cluster.getClusterId(),
    coordinatorAdminUrl: cluster.getCoordinatorAdminUrl(),
    etcdEndpoint: `${cluster.plan.etcd.url} (inside the stack's network)`,
    nodes: nodeRows(cluster.nodes, election, (n) => ({ engine: n.engine, dial: n.getDialAddress() })),
    images: Object.fromEntries(Object.entries(cluster.plan.inputs.images).map(([k, v]) => [k, v.image])),
    startupMs: cluster.startupTimings.total,
    m3Version: cluster.getM3Version(),
    m3Source: null,
    tls: tlsSummary(cluster.tls),
    swarm: { engines: cluster.getEngines(), ...(relays === undefined ? {} : { relays }) },
    loadedImages: cluster.loadedImages,
  };
}

export function summarize(cluster: StartedM3AggregatorCluster, election: ShardSetElection[]): EndpointSummary {
  return {
    clusterId: cluster.getClusterId(),
    coordinatorAdminUrl: cluster.getCoordinatorAdminUrl(),
    etcdEndpoint: cluster.getEtcdUrl(),
    nodes: nodeRows(cluster.nodes, election, (n) => (n.getDebugPort() === undefined ? {} : { debug: `${n.getHost()}:${n.getDebugPort()}` })),
    images: { ...cluster.images },
    startupMs: cluster.startupTimings.total,
    m3Version: cluster.getM3Version(),
    m3Source: cluster.getM3Source() ?? null,
    tls: tlsSummary(cluster.tls),
  };
}

export function formatTable(summary: EndpointSummary): string {
  const debug = summary.nodes.some((n) => n.debug !== undefined);
  const swarm = summary.swarm !== undefined;
  const header = ["node", ...(swarm ? ["engine"] : []), "shard set", "role", "raw TCP ingest", ...(swarm ? ["dialled at"] : []), "HTTP API", "metrics", ...(debug ? ["delve (dlv connect)"] : [])];
  const rows = summary.nodes.map((n) => [
    n.id, ...(swarm ? [String(n.engine ?? "-")] : []), String(n.shardSetId ?? "-"), n.role, n.tcp, ...(swarm ? [n.dial ?? "-"] : []),
    n.http, n.metrics, ...(debug ? [n.debug ?? "-"] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join("  ").trimEnd();
  return [
    `cluster ${summary.clusterId} ready in ${summary.startupMs} ms: m3 ${summary.m3Version}` +
      (summary.m3Source === null ? " (release images)" : ` built from ${summary.m3Source}`),
    summary.tls === null ? "raw TCP TLS            off"
      : `raw TCP TLS            ${summary.tls.mode}${summary.tls.mutualTls ? ", mTLS" : ""}: CA ${summary.tls.caFile}, client cert ${summary.tls.certFile}, key ${summary.tls.keyFile}`,
    `coordinator admin API  ${summary.coordinatorAdminUrl}   (e.g. curl ${summary.coordinatorAdminUrl}/api/v1/services/m3aggregator/placement)`,
    `etcd                   ${summary.etcdEndpoint}`,
    ...(summary.swarm === undefined ? [] : [`swarm engines          ${summary.swarm.engines.map((e, i) => `${i}=${e}`).join(", ")}`]),
    "",
    line(header),
    ...rows.map(line),
    "",
    `images: ${Object.values(summary.images).join(", ")}`,
  ].join("\n");
}
