/**
 * Attaching to a cluster that is already running (started by this or another
 * process): the cluster plan's inputs are in its containers' plan label, so
 * handles are rebuilt from the same plan without any state file. Used by reuse mode and by
 * the jest global-setup recipe.
 */
import { type ClusterPlan, decodePlanLabel, planCluster } from "../plan/plan";
import { StartedM3AggregatorCluster } from "./started";
import { StartedEtcdContainer } from "../containers/etcd";
import { type Wrapped, wrap } from "../containers/attached";
import { StartedM3CoordinatorContainer } from "../containers/m3coordinator";
import { containersWithLabel } from "../docker/client";
import { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE, LABEL_PLAN } from "../model/labels";
import { attachNodes, nodePlansOf } from "./node-containers";
import { StartedToxiproxyContainer } from "../containers/toxiproxy";

/** The cluster is not there, or not whole. */
export class AttachError extends Error {
  override readonly name = "AttachError";
}

/**
 * Handles for the running cluster `clusterId`, rebuilt from its plan label: the same pure
 * planCluster() the start ran gives the ids, ports and endpoints. Throws {@link AttachError} when
 * it has no containers, lacks a component, a container is not running, or its plan label is
 * missing or of another version (a cluster started by an older version of this package).
 */
export async function attachCluster(clusterId: string): Promise<StartedM3AggregatorCluster> {
  const containers = await containersWithLabel(LABEL_CLUSTER, clusterId);
  if (containers.length === 0) throw new AttachError(`no containers of cluster ${clusterId}`);
  const notRunning = containers.filter((c) => c.state !== "running");
  if (notRunning.length > 0) {
    throw new AttachError(`cluster ${clusterId}: ${notRunning.map((c) => `${c.name} is ${c.state}`).join(", ")}`);
  }
  const byComponent = (component: string, node?: string) =>
    containers.find((c) => c.labels[LABEL_COMPONENT] === component && (node === undefined || c.labels[LABEL_NODE] === node));
  const etcdSummary = byComponent("etcd");
  const coordinatorSummary = byComponent("m3coordinator");
  if (etcdSummary === undefined || coordinatorSummary === undefined) {
    throw new AttachError(`cluster ${clusterId} lacks ${etcdSummary === undefined ? "etcd" : "the coordinator"}`);
  }
  const label = etcdSummary.labels[LABEL_PLAN];
  if (label === undefined) throw new AttachError(`cluster ${clusterId}: etcd has no ${LABEL_PLAN} label`);
  let plan: ClusterPlan;
  try {
    plan = planCluster(decodePlanLabel(label));
  } catch (error) {
    throw new AttachError(`cluster ${clusterId}: ${(error as Error).message}`, { cause: error });
  }
  // Nodes from their own containers: a node added by addNodes/replaceNode carries its plan in its own
  // label, and a removed one is gone; the live placement decides which must be there (waitForReady).
  let nodePlans: ReturnType<typeof nodePlansOf>;
  try {
    nodePlans = nodePlansOf(clusterId, containers);
  } catch (error) {
    throw new AttachError((error as Error).message, { cause: error });
  }
  if (nodePlans.length === 0) throw new AttachError(`cluster ${clusterId} has none of its ${plan.nodes.length} aggregator nodes`);

  const proxySummary = byComponent("toxiproxy");
  if (plan.faults !== undefined && proxySummary === undefined) throw new AttachError(`cluster ${clusterId} was started with faults: true and lacks its Toxiproxy container`);
  const host = plan.host;
  const [etcdWrapped, coordinatorWrapped] = await Promise.all([etcdSummary, coordinatorSummary].map((c) => wrap(c, host)));
  const nodes = await attachNodes(host, nodePlans);
  const etcd = new StartedEtcdContainer((etcdWrapped as Wrapped).started, (etcdWrapped as Wrapped).logBuffer, plan.etcd);
  const coordinator = new StartedM3CoordinatorContainer((coordinatorWrapped as Wrapped).started, (coordinatorWrapped as Wrapped).logBuffer, plan.coordinator);
  let toxiproxy: StartedToxiproxyContainer | undefined;
  if (plan.faults !== undefined && proxySummary !== undefined) {
    const wrapped = await wrap(proxySummary, host);
    toxiproxy = new StartedToxiproxyContainer(wrapped.started, wrapped.logBuffer, plan.faults);
  }
  return new StartedM3AggregatorCluster(plan, etcd, coordinator, nodes, { total: 0 }, true, undefined, toxiproxy);
}
