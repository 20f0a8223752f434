/**
 * A port taken between the plan and the container's bind: the start is retried
 * on newly planned ports (allocated ports), or fails with PortInUseError
 * (explicit ports), and the retries are bounded with every attempt named.
 * The "thief" binds a planned port right after the ports phase, before any
 * container runs: the race a busy host produces, made certain.
 */
import type { Server } from "node:net";
import { M3AggregatorCluster } from "../../src/cluster/start";
import { type StartedM3AggregatorCluster } from "../../src/cluster/started";
import { ClusterStartError } from "../../src/cluster/errors";
import { describePorts, listReservations, PortBindRetriesExhaustedError, PortInUseError } from "../../src/ports";
import type { ProgressEvent } from "../../src/model/phases";
import { clusterContainers, holdPort, uniqueClusterId } from "./helpers";

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** onProgress that counts "ports" phases and, after the first, runs `onPlanned` once. */
function watchPlans(onPlanned: () => void): { plans: () => number; onProgress: (p: ProgressEvent) => void } {
  let plans = 0;
  return {
    plans: () => plans,
    onProgress: (p) => {
      if (p.phase !== "ports") return;
      if (p.state === "begin") plans++;
      if (p.state === "end" && plans === 1) onPlanned();
    },
  };
}

test("an allocated port taken after the plan: the start is retried on new ports and succeeds", async () => {
  const clusterId = uniqueClusterId("retry");
  let stolen: number | undefined;
  const watch = watchPlans(() => {
    // The lowest port the first plan reserved (any of them makes its component fail to bind).
    stolen = Math.min(...listReservations().filter((r) => r.cluster === clusterId).map((r) => r.port));
    void holdPort(stolen).then((s) => held.push(s));
  });
  let cluster: StartedM3AggregatorCluster | undefined;
  try {
    cluster = await M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId, onProgress: watch.onProgress });
    expect(stolen).toBeDefined();
    expect(watch.plans()).toBe(2);
    const ports = describePorts(cluster.ports).map((p) => p.port);
    expect(ports).not.toContain(stolen);
    // The cluster holds exactly its plan's reservations; the first plan's were released.
    expect(listReservations().filter((r) => r.cluster === clusterId).map((r) => r.port).sort()).toEqual([...ports].sort());
    expect([...(await cluster.leaders()).values()].every((l) => l !== undefined)).toBe(true);
  } finally {
    await cluster?.stop();
  }
  expect(await clusterContainers(clusterId)).toEqual([]);
  expect(listReservations().filter((r) => r.cluster === clusterId)).toEqual([]);
}, 180_000);

test("an explicit port taken after the check: PortInUseError, no retry on other ports", async () => {
  const clusterId = uniqueClusterId("explicit");
  const probe = await holdPort(0);
  const etcdPort = (probe.address() as import("node:net").AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const watch = watchPlans(() => void holdPort(etcdPort).then((s) => held.push(s)));
  const error = await M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId, etcdPort, onProgress: watch.onProgress })
    .then((c) => c.stop().then(() => undefined), (e: unknown) => e);
  expect(error).toBeInstanceOf(ClusterStartError);
  const cause = (error as ClusterStartError).cause;
  expect(cause).toBeInstanceOf(PortInUseError);
  expect((cause as PortInUseError).port).toBe(etcdPort);
  expect((error as Error).message).toContain(`port ${etcdPort} on 127.0.0.1 (etcd client) was taken by another program after the check`);
  expect((error as Error).message).toMatch(/bind: address already in use/);
  expect(watch.plans()).toBe(1);
  expect(await clusterContainers(clusterId)).toEqual([]);
  expect(listReservations().filter((r) => r.cluster === clusterId)).toEqual([]);
}, 120_000);

test("a port that stays taken on every attempt: 3 attempts on different ports, each named in the error", async () => {
  const clusterId = uniqueClusterId("exhausted");
  const busy = await holdPort(0);
  held.push(busy);
  const busyPort = (busy.address() as import("node:net").AddressInfo).port;
  let plans = 0;
  // Every aggregator is told to put its metrics listener on the busy port: each attempt fails to bind.
  const error = await M3AggregatorCluster.start({
    nodes: 2, rf: 2, clusterId,
    configOverrides: { aggregator: { metrics: { prometheus: { listenAddress: `127.0.0.1:${busyPort}` } } } },
    onProgress: (p) => { if (p.phase === "ports" && p.state === "begin") plans++; },
  }).then((c) => c.stop().then(() => undefined), (e: unknown) => e);
  expect(error).toBeInstanceOf(ClusterStartError);
  const cause = (error as ClusterStartError).cause as PortBindRetriesExhaustedError;
  expect(cause).toBeInstanceOf(PortBindRetriesExhaustedError);
  expect(plans).toBe(3);
  expect(cause.attempts).toHaveLength(3);
  for (const [i, attempt] of cause.attempts.entries()) {
    expect((error as Error).message).toContain(`attempt ${i + 1}: m3aggregator0`);
    expect(attempt.failures.some((f) => f.port === busyPort && /address already in use/.test(f.line))).toBe(true);
  }
  // Each attempt planned its own ports.
  const [a, b] = cause.attempts.map((at) => new Set(at.ports.map((p) => p.port)));
  expect([...a!].filter((p) => b!.has(p))).toEqual([]);
  expect(await clusterContainers(clusterId)).toEqual([]);
  expect(listReservations().filter((r) => r.cluster === clusterId)).toEqual([]);
}, 180_000);
