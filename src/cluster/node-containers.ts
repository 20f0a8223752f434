/**
 * The aggregator nodes of a running cluster, read from the engine: each node container carries its
 * own plan label (a node added by addNodes/replaceNode, in this process or another, has one too), so a
 * handle for it is rebuilt from the same pure planCluster(). Attach uses it for every node; a started
 * handle uses it to take in nodes another process added (`m3agg scale`) and drop ones it removed.
 */
import { decodePlanLabel, type NodePlan, planCluster } from "../plan/plan";
import { wrap } from "../containers/attached";
import { StartedM3AggregatorNode } from "../containers/m3aggregator";
import type { ContainerSummary } from "../docker/client";
import { LABEL_COMPONENT, LABEL_NODE, LABEL_PLAN } from "../model/labels";

/** A node container's plan label is missing, unreadable or has no plan for its node. */
export class NodeLabelError extends Error {
  override readonly name = "NodeLabelError";
}

/** The plan of each aggregator container among `containers`, in instance-id order. */
export function nodePlansOf(clusterId: string, containers: readonly ContainerSummary[]): Array<{ summary: ContainerSummary; node: NodePlan }> {
  const plans: Array<{ summary: ContainerSummary; node: NodePlan }> = [];
  for (const summary of containers.filter((c) => c.labels[LABEL_COMPONENT] === "m3aggregator")) {
    const id = summary.labels[LABEL_NODE];
    const label = summary.labels[LABEL_PLAN];
    let node: NodePlan | undefined;
    try {
      node = label === undefined ? undefined : planCluster(decodePlanLabel(label)).nodes.find((n) => n.id === id);
    } catch (error) {
      throw new NodeLabelError(`cluster ${clusterId}: node ${id}: ${(error as Error).message}`, { cause: error });
    }
    if (node === undefined) throw new NodeLabelError(`cluster ${clusterId}: container ${summary.name} has no plan for node ${id}`);
    plans.push({ summary, node });
  }
  return plans.sort((a, b) => a.node.id.localeCompare(b.node.id));
}

/** Handles for these node containers (their logs captured from the start, then followed). */
export async function attachNodes(host: string, plans: ReadonlyArray<{ summary: ContainerSummary; node: NodePlan }>): Promise<StartedM3AggregatorNode[]> {
  return Promise.all(plans.map(async ({ summary, node }) => {
    const wrapped = await wrap(summary, host);
    return new StartedM3AggregatorNode(wrapped.started, wrapped.logBuffer, node);
  }));
}
