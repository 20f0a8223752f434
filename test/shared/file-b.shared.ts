import * as fs from "node:fs";
import { useSharedM3AggregatorCluster } from "../../src/jest/shared-cluster";

const m3 = useSharedM3AggregatorCluster();

test("file b sees the shared cluster, ready", async () => {
  const election = await m3.cluster.waitForReady();
  expect(election).toHaveLength(1);
  expect(m3.cluster.attached).toBe(true);
  fs.appendFileSync(process.env.M3AGG_SHARED_REPORT as string, `${JSON.stringify({ file: "b", clusterId: m3.cluster.getId(), etcd: m3.cluster.getEtcdUrl(), pid: process.pid })}\n`);
});
