/**
 * The common handle's contract (handle-contract.ts) on the loopback target: a 4x2 cluster on this
 * machine's engine, TLS on (the default), the sink. swarm.test.ts runs the same function against a
 * cluster across two Swarm engines.
 */
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { defaultM3Version } from "../../src/model/versions";
import { checkCommonHandle } from "./handle-contract";
import { uniqueClusterId } from "./helpers";

const clusterId = uniqueClusterId("contract");
const m3 = useM3AggregatorCluster({ nodes: 4, rf: 2, backend: "sink", clusterId });

test("the loopback cluster keeps the common handle's contract", async () => {
  await checkCommonHandle(m3.cluster, { clusterId, nodes: 4, rf: 2, m3Version: defaultM3Version(), metricPrefix: `contract.${clusterId}` });
}, 180_000);
