/**
 * Nodes started after the cluster (addNodes, replaceNode): ports from the cluster's allocator
 * (reserved under its id, released by its teardown), the same config, image, debug mode and TLS
 * files as the planned nodes, and labels (cluster, component, node, ports, plan) so teardown, the
 * sweep and attach see them.
 *
 * planAddedNode is the one place that plans such a node; it reuses the pure cluster plan.
 */
import { type ClusterPlan, instanceIdOf, type NodePlan, planCluster } from "../plan/plan";
import { M3AggregatorContainer, type StartedM3AggregatorNode } from "../containers/m3aggregator";
import { PortAllocator, type NodePorts } from "../ports";
import { containerFilesFromDir } from "../tls/material";

/** The 0-based node index of an instance id `m3aggregatorNN` (NN − 1). */
export function nodeIndexOf(id: string): number {
  const match = /^m3aggregator(\d+)$/.exec(id);
  if (match === null) throw new Error(`instance id ${id} is not of the form m3aggregatorNN`);
  return Number(match[1]) - 1;
}

/**
 * The plan of node `id` of this cluster on `ports`: the same pure planCluster() the start ran, on the
 * cluster's inputs with this node's ports at its index, so config, image and labels follow the same
 * rules; its plan label carries those inputs, from which attach rebuilds the node.
 */
export function planAddedNode(plan: ClusterPlan, id: string, ports: NodePorts): NodePlan {
  const index = nodeIndexOf(id);
  const nodes = Array.from({ length: index + 1 }, (_, i) => plan.inputs.ports.nodes[i] ?? ports);
  nodes[index] = ports;
  const planned = planCluster({ ...plan.inputs, ports: { ...plan.inputs.ports, nodes } }).nodes[index];
  if (planned === undefined || planned.id !== id || planned.id !== instanceIdOf(index)) throw new Error(`could not plan node ${id}`);
  return planned;
}

/** Allocates the ports of one more node (HTTP, metrics, raw TCP, and delve in debug mode). */
export async function allocateNodePorts(plan: ClusterPlan, debug: boolean): Promise<NodePorts> {
  const allocator = new PortAllocator({ cluster: plan.clusterId, host: plan.host });
  try {
    const ports: NodePorts = { http: await allocator.allocate(), metrics: await allocator.allocate(), tcp: await allocator.allocate() };
    if (debug) ports.debug = await allocator.allocate();
    return ports;
  } catch (error) {
    allocator.releaseAll();
    throw error;
  }
}

/** Starts nodes `ids` in parallel; on any failure removes the ones that started and throws naming each failure. */
export async function startAddedNodes(plan: ClusterPlan, ids: string[], startTimeoutMs = 90_000): Promise<StartedM3AggregatorNode[]> {
  const debug = plan.inputs.options.debug;
  const files = plan.tls === undefined ? [] : containerFilesFromDir(plan.tls.hostDir);
  const results = await Promise.allSettled(ids.map(async (id) => {
    const node = planAddedNode(plan, id, await allocateNodePorts(plan, debug !== undefined));
    return new M3AggregatorContainer(plan.host, node, debug, files).withStartupTimeout(startTimeoutMs).start();
  }));
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${ids[i]}: ${String((r.reason as Error)?.message ?? r.reason)}`] : []));
  if (failed.length > 0) {
    await Promise.all(started.map((n) => n.remove().catch(() => undefined)));
    throw new Error(`new aggregator nodes failed to start:\n${failed.join("\n")}`);
  }
  return started;
}
