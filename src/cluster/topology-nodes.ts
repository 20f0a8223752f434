/**
 * Nodes started after the cluster (addNodes, replaceNode): ports from the cluster's allocator
 * (reserved under its id, released by its teardown), the same config, image, debug mode and TLS
 * files as the planned nodes, and labels (cluster, component, node, ports, plan) so teardown, the
 * sweep and attach see them.
 *
 * planAddedNode is the one place that plans such a node; it reuses the pure cluster plan.
 */
import { type ClusterPlan, type NodePlan, planNode } from "../plan/plan";
import { prepareContainer } from "../containers/executor";
import { StartedM3AggregatorNode } from "../containers/m3aggregator";
import { keepReservations, PortAllocator, type NodePorts } from "../ports";
import { LABEL_OWNER_PID } from "../model/labels";
import { formatLogTail } from "../util/log-tail";

/** The 0-based node index of an instance id `m3aggregatorNN` (NN − 1). */
export function nodeIndexOf(id: string): number {
  const match = /^m3aggregator(\d+)$/.exec(id);
  if (match === null) throw new Error(`instance id ${id} is not of the form m3aggregatorNN`);
  return Number(match[1]) - 1;
}

/**
 * The plan of node `id` of this cluster on `ports`: the plan's own planNode() (the one planCluster
 * makes every node with), on the cluster's inputs with this node's ports at its index, so its plan
 * label carries inputs from which attach rebuilds this node.
 */
export function planAddedNode(plan: ClusterPlan, id: string, ports: NodePorts): NodePlan {
  const index = nodeIndexOf(id);
  const nodes = Array.from({ length: index + 1 }, (_, i) => plan.inputs.ports.nodes[i] ?? ports);
  nodes[index] = ports;
  const inputs = { ...plan.inputs, ports: { ...plan.inputs.ports, nodes } };
  const planned = planNode({ inputs, host: plan.host, network: plan.network, names: plan.names }, index, ports);
  if (planned.id !== id) throw new Error(`could not plan node ${id} (planned ${planned.id})`);
  return planned;
}

/** Allocates the ports of one more node (HTTP, metrics, raw TCP, and delve in debug mode). */
export async function allocateNodePorts(plan: ClusterPlan, debug: boolean, owner: Record<string, string> = {}): Promise<NodePorts> {
  const ownerPid = owner[LABEL_OWNER_PID] === undefined ? undefined : Number(owner[LABEL_OWNER_PID]);
  const allocator = new PortAllocator({ cluster: plan.clusterId, host: plan.host, ownerPid });
  try {
    const ports: NodePorts = { http: await allocator.allocate(), metrics: await allocator.allocate(), tcp: await allocator.allocate() };
    if (debug) ports.debug = await allocator.allocate();
    return ports;
  } catch (error) {
    allocator.releaseAll();
    throw error;
  }
}

/**
 * Starts nodes `ids` in parallel with the plan's executor; on any failure removes the ones that started
 * and throws naming each failure. `owner`: the owner labels of the cluster's containers; the new nodes
 * and their port reservations take them, so they live with the cluster, not with this process.
 */
export async function startAddedNodes(plan: ClusterPlan, ids: string[], startTimeoutMs = 90_000, owner?: Record<string, string>): Promise<StartedM3AggregatorNode[]> {
  const debug = plan.inputs.options.debug !== undefined;
  const results = await Promise.allSettled(ids.map(async (id) => {
    const node = planAddedNode(plan, id, await allocateNodePorts(plan, debug, owner));
    const prepared = prepareContainer(node.container, { owner });
    try {
      return new StartedM3AggregatorNode(await prepared.start(startTimeoutMs), prepared.logBuffer, node);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${formatLogTail(id, prepared.logBuffer.all())}`, { cause: error });
    }
  }));
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${ids[i]}: ${String((r.reason as Error)?.message ?? r.reason)}`] : []));
  if (failed.length > 0) {
    await Promise.all(started.map((n) => n.remove().catch(() => undefined)));
    throw new Error(`new aggregator nodes failed to start:\n${failed.join("\n")}`);
  }
  if (plan.inputs.options.reuseKey !== undefined) keepReservations(plan.clusterId); // a kept cluster's ports outlive every process
  return started;
}
