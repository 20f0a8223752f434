/**
 * Port reservations over a cluster's life: held while it runs, released by
 * stop(); a kept (reuse) cluster's outlive stop() and its process, and are
 * swept once Docker has no container of the cluster any more.
 */
import { M3AggregatorCluster } from "../../src/cluster/start";
import { containersWithLabel, removeContainers } from "../../src/docker/client";
import { LABEL_CLUSTER } from "../../src/model/labels";
import { describePorts, listReservations } from "../../src/ports";
import { sweepReservations } from "../../src/lifecycle/sweep";
import { uniqueClusterId } from "./helpers";

const reservationsOf = (clusterId: string) => listReservations().filter((r) => r.cluster === clusterId);

test("a cluster holds a reservation for each of its ports until stop()", async () => {
  const clusterId = uniqueClusterId("reserved");
  const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId });
  try {
    const ports = describePorts(cluster.ports).map((p) => p.port).sort();
    expect(reservationsOf(clusterId).map((r) => r.port).sort()).toEqual(ports);
    expect(reservationsOf(clusterId).every((r) => r.pid === process.pid && !r.kept)).toBe(true);
  } finally {
    await cluster.stop();
  }
  expect(reservationsOf(clusterId)).toEqual([]);
}, 120_000);

test("a kept (reuse) cluster keeps its reservations past stop(); they are swept once its containers are gone", async () => {
  // electionTtlSeconds makes the reuse key unique to this test.
  const cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, reuse: true, electionTtlSeconds: 2 + Math.floor(Math.random() * 200) });
  const ports = describePorts(cluster.ports).map((p) => p.port).sort();
  try {
    await cluster.stop(); // reuse: left running
    expect(reservationsOf(cluster.getId()).map((r) => r.port).sort()).toEqual(ports);
    expect(reservationsOf(cluster.getId()).every((r) => r.kept)).toBe(true);
    expect((await sweepReservations()).filter((p) => ports.includes(p))).toEqual([]); // its containers run: kept
    expect(reservationsOf(cluster.getId())).toHaveLength(ports.length);

    // Removed behind the fixture's back (docker rm -f): the next sweep frees the ports.
    await removeContainers((await containersWithLabel(LABEL_CLUSTER, cluster.getId())).map((c) => c.id));
    await sweepReservations();
    expect(reservationsOf(cluster.getId())).toEqual([]);
  } finally {
    await cluster.stop({ remove: true });
  }
  expect(reservationsOf(cluster.getId())).toEqual([]);
}, 120_000);
