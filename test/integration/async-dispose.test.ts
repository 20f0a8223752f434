/**
 * `await using` on a real 2x2 cluster: leaving the scope removes every container.
 */
import { M3AggregatorCluster } from "../../src/cluster/start";
import { clusterContainers, uniqueClusterId } from "./helpers";

test("await using: the cluster runs inside the scope and is removed when it ends", async () => {
  const clusterId = uniqueClusterId("dispose");
  {
    await using cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId });
    expect(cluster.nodes).toHaveLength(2);
    expect(await clusterContainers(clusterId)).toHaveLength(4); // etcd, coordinator, 2 aggregators
  }
  expect(await clusterContainers(clusterId)).toEqual([]);
}, 180_000);
