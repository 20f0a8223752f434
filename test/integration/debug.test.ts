/** Debug mode: every node under a headless delve, waiting for the debugger. */
import { delveCall, delveContinue } from "../../src/debug/delve-client";
import { useM3AggregatorCluster } from "../../src/jest/helper";
import { uniqueClusterId } from "./helpers";

const m3 = useM3AggregatorCluster({ nodes: 2, rf: 2, debug: { waitForDebugger: true }, clusterId: uniqueClusterId("debug") });

test("each node's delve answers JSON-RPC while the node waits; once continued the nodes become healthy and elect", async () => {
  const debugPorts = m3.cluster.nodes.map((n) => n.getDebugPort());
  expect(debugPorts.every((p) => typeof p === "number")).toBe(true);
  expect(new Set(debugPorts).size).toBe(2);
  // The placement records each node's debug port, as m3's InstanceMetadata allows.
  const placement = await m3.cluster.placement();
  expect(m3.cluster.nodes.map((n) => placement.instances[n.id]?.metadata?.debugPort)).toEqual(debugPorts);

  for (const node of m3.cluster.nodes) {
    const version = await delveCall<{ APIVersion: number; DelveVersion: string }>(node.getHost(), node.getDebugPort()!, "GetVersion");
    expect(version.APIVersion).toBe(2);
    const state = await delveCall<{ State: { Running: boolean; TargetCommandLine: string } }>(node.getHost(), node.getDebugPort()!, "State", { NonBlocking: true });
    expect(state.State.TargetCommandLine).toContain("/bin/m3aggregator -f");
    expect(state.State.Running).toBe(false); // stopped before main: waiting for us
    expect(await node.api.isHealthy(300)).toBe(false);
  }
  for (const node of m3.cluster.nodes) await delveContinue(node.getHost(), node.getDebugPort()!);
  const election = await m3.cluster.waitForReady({ timeoutMs: 60_000 });
  expect(election[0]?.leader).toBeDefined();
  expect(await Promise.all(m3.cluster.nodes.map((n) => n.api.isHealthy()))).toEqual([true, true]);
}, 120_000);
