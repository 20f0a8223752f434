import { clusterOwnerOf, ownedBySelf, ownerLabels } from "../../../src/docker/labels";

// Label names spelled out here (the sweep's contract), not taken from the code under test.
const OWNER = {
  "org.m3agg.owner-host": "builder-7",
  "org.m3agg.owner-pid": "4242",
  "org.m3agg.owner-start": "123456",
  "org.m3agg.owner-ns": "pid:[4026531836]",
};

describe("owner labels of a node added to a running cluster", () => {
  test("clusterOwnerOf keeps exactly the four owner labels of a cluster container", () => {
    expect(clusterOwnerOf({ ...OWNER, "org.m3agg.cluster": "c1", "org.m3agg.node": "m3aggregator01", "org.m3agg.started-at": "x" })).toEqual(OWNER);
  });

  test("ownerLabels with the cluster's owner names that owner, not this process", () => {
    const labels = ownerLabels({ "org.m3agg.cluster": "c1" }, OWNER);
    expect(labels).toMatchObject(OWNER);
    expect(labels["org.m3agg.owner-pid"]).not.toBe(String(process.pid));
    expect(Date.parse(labels["org.m3agg.started-at"] as string)).not.toBeNaN();
  });

  test("a kept cluster's owner (no pid) gives no owner pid", () => {
    const labels = ownerLabels({ "org.m3agg.cluster": "c1", "org.m3agg.reuse": "k" }, { "org.m3agg.owner-host": "builder-7" });
    expect(labels["org.m3agg.owner-pid"]).toBeUndefined();
  });

  test("ownedBySelf: true only for this process's own labels", () => {
    expect(ownedBySelf(OWNER)).toBe(false);
    expect(ownedBySelf(ownerLabels({ "org.m3agg.cluster": "c1" }))).toBe(true);
  });
});
