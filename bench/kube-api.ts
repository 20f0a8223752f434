/**
 * `npm run bench:kube-api`: apply → pods Ready for a 4x2 cluster on the API layer (the control
 * plane of test/kube/control-plane.ts: kube-apiserver, controller-manager, scheduler, kwok's fake
 * node), and how long the failure teardown (namespace deleted until gone) takes. Each round is a
 * real start({ target: { kubernetes } }) that fails at its placement phase (no pod runs m3 here).
 *
 * apply → pods Ready = from the runner's apply (its connect and sweep phases subtracted) until this
 * script, polling the pods every 50 ms with its own requests, sees all 6 pods Running and Ready.
 * Env: ROUNDS (default 5), TIMEOUT_MS (the start's deadline, default 12000).
 */
import { M3AggregatorCluster } from "../src/cluster/start";
import { KubernetesStartError } from "../src/cluster/kubernetes";
import { KubeApi } from "../src/kube/api";
import { listPods, podReady } from "../src/kube/namespaces";
import { poll } from "../src/util/poll";
import { startControlPlane } from "../test/kube/control-plane";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS ?? 12_000);

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  return `${median} (${sorted[0]}–${sorted[sorted.length - 1]})`;
}

async function main(): Promise<void> {
  const t = Date.now();
  const cp = await startControlPlane({ kwok: true });
  const controlPlaneMs = Date.now() - t;
  try {
    const api = await KubeApi.connect({ kubeconfig: cp.kubeconfig });
    const applyToReady: number[] = [];
    const teardown: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const id = `m3agg-bench-${round}`;
      const t0 = Date.now();
      const outcome = M3AggregatorCluster.start({ nodes: 4, rf: 2, tls: false, clusterId: id, startTimeoutMs: TIMEOUT_MS, target: { kubernetes: { kubeconfig: cp.kubeconfig } } })
        .then(() => { throw new Error("the start succeeded: nothing should answer behind the proxy here"); }, (error: unknown) => error);
      await poll(async () => {
        const pods = await listPods(api, id);
        return pods.length === 6 && pods.every(podReady) ? true : undefined;
      }, { timeoutMs: TIMEOUT_MS, intervalMs: 50, what: "6 pods Ready" });
      const readyAt = Date.now();
      const error = await outcome;
      if (!(error instanceof KubernetesStartError) || error.phase !== "placement") throw error;
      const applyAt = t0 + (error.phaseMs.connect ?? 0) + (error.phaseMs.sweep ?? 0);
      applyToReady.push(readyAt - applyAt);
      teardown.push(Date.now() - (t0 + Object.values(error.phaseMs).reduce((a, b) => a + (b ?? 0), 0)));
      process.stderr.write(`round ${round + 1}: apply → 6 pods Ready ${readyAt - applyAt} ms, phases ${JSON.stringify(error.phaseMs)}\n`);
    }
    const result = { nodes: 4, rf: 2, rounds: ROUNDS, controlPlaneMs, applyToPodsReadyMs: stats(applyToReady), failureTeardownMs: stats(teardown) };
    process.stdout.write(`| 4x2, API layer (kwok), median (min–max) of ${ROUNDS} | ms |\n|---|---|\n` +
      `| apply → all 6 pods Running and Ready | ${result.applyToPodsReadyMs} |\n` +
      `| failed start's teardown: namespace deleted until gone | ${result.failureTeardownMs} |\n` +
      `| control plane up (etcd, apiserver, controller-manager, scheduler, kwok node Ready) | ${controlPlaneMs} |\n${JSON.stringify(result)}\n`);
  } finally {
    await cp.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
