/**
 * M3AggregatorCluster.fromPlan: a plan a test made and edited is what runs (the plan is the
 * only seam: no component is decided after its container spec).
 */
import { resolveOptions } from "../../src/cluster/options";
import { M3AggregatorCluster } from "../../src/cluster/start";
import type { StartedM3AggregatorCluster } from "../../src/cluster/started";
import { containersWithLabel, dockerClient } from "../../src/docker/client";
import { resolveImages } from "../../src/docker/images";
import { planCluster } from "../../src/plan/plan";
import { planPorts } from "../../src/ports";
import { clusterContainers, uniqueClusterId } from "./helpers";

describe("fromPlan", () => {
  const clusterId = uniqueClusterId("from-plan");
  let cluster: StartedM3AggregatorCluster | undefined;

  afterAll(async () => {
    await cluster?.stop();
    expect(await clusterContainers(clusterId)).toEqual([]);
  });

  test("starts a plan the test made and edited: the edited spec is what Docker runs", async () => {
    const options = resolveOptions({ nodes: 2, rf: 2, clusterId, tls: false });
    const plan = planCluster({ options, ports: await planPorts(options), images: await resolveImages(options) });
    const edited = plan.nodes[1]!.container;
    edited.env = { ...edited.env, M3AGG_TEST_EDIT: "from-the-test" };
    edited.labels = { ...edited.labels, "org.m3agg.test-edit": clusterId };

    cluster = await M3AggregatorCluster.fromPlan(plan).start();

    expect(cluster.plan).toBe(plan);
    expect([...(await cluster.leaders()).values()]).toHaveLength(1);
    expect((await cluster.leaders()).get(1)).toMatch(/^m3aggregator0[12]$/);
    const marked = await containersWithLabel("org.m3agg.test-edit", clusterId);
    expect(marked.map((c) => c.labels["org.m3agg.node"])).toEqual(["m3aggregator02"]);
    const inspect = await (await dockerClient()).container.dockerode.getContainer(cluster.node(1).getId()).inspect();
    expect(inspect.Config.Env).toEqual(expect.arrayContaining(["M3AGG_TEST_EDIT=from-the-test", "M3AGGREGATOR_HOST_ID=m3aggregator02"]));
    const other = await (await dockerClient()).container.dockerode.getContainer(cluster.node(0).getId()).inspect();
    expect(other.Config.Env).not.toContain("M3AGG_TEST_EDIT=from-the-test");
  });
});
