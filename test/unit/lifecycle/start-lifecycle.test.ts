/**
 * The start's lifecycle rules that need no Docker engine: one deadline for the whole start (lock
 * waits included), aborts, the cluster-id claim, stop() after a failed teardown, kept clusters'
 * labels. What needs real containers is in test/integration/lifecycle.test.ts.
 */
import * as fs from "node:fs";
import { ClusterStartError } from "../../../src/cluster/errors";
import { resolveOptions } from "../../../src/cluster/options";
import { M3AggregatorCluster } from "../../../src/cluster/start";
import { StartedM3AggregatorCluster } from "../../../src/cluster/started";
import { prepareContainer } from "../../../src/containers/executor";
import { ownerLabels } from "../../../src/docker/labels";
import { LABEL_OWNER_PID, LABEL_OWNER_START, LABEL_REUSE } from "../../../src/model/labels";
import { planCluster } from "../../../src/plan/plan";
import { StartAbortedError, StartBudget, StartTimeoutError } from "../../../src/lifecycle/budget";
import { ClusterIdInUseError, clusterLockName } from "../../../src/lifecycle/claim";
import { acquireLock, lockOwner, tryLock } from "../../../src/util/file-lock";
import * as live from "../../../src/lifecycle/live";
import { PhaseRunner } from "../../../src/lifecycle/phase-runner";
import { poll } from "../../../src/util/poll";

afterEach(() => jest.restoreAllMocks());

describe("StartBudget", () => {
  test("the deadline aborts with a StartTimeoutError naming startTimeoutMs; race() ends pending work at once", async () => {
    const budget = new StartBudget(200);
    const t0 = Date.now();
    const never = new Promise<never>(() => undefined);
    await expect(budget.race(never)).rejects.toThrow(StartTimeoutError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(() => budget.check()).toThrow("startTimeoutMs=200");
    budget.dispose();
  });

  test("the caller's signal aborts with a StartAbortedError carrying its reason; an already aborted signal at once", async () => {
    const controller = new AbortController();
    const budget = new StartBudget(60_000, controller.signal);
    const pending = budget.race(new Promise<never>(() => undefined));
    controller.abort(new Error("hook gave up"));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartAbortedError);
    expect((error as Error).message).toBe("the start was aborted: hook gave up");
    budget.dispose();
    const early = new StartBudget(60_000, AbortSignal.abort(new Error("too late")));
    expect(() => early.check()).toThrow("too late");
    early.dispose();
  });

  test("a phase of the runner ends when the budget aborts, and settled() waits for the work it left running", async () => {
    const budget = new StartBudget(60_000);
    const runner = new PhaseRunner(budget);
    let finish!: () => void;
    let workDone = false;
    const phase = runner.run("etcd", () => new Promise<void>((resolve) => (finish = resolve)).then(() => { workDone = true; }));
    budget.abort(new StartAbortedError(new Error("stop")));
    await expect(phase).rejects.toThrow("the start was aborted: stop");
    expect(workDone).toBe(false);
    const settled = runner.settled();
    setTimeout(() => finish(), 20);
    await settled;
    expect(workDone).toBe(true);
    budget.dispose();
  });

  test("poll ends at once when its signal aborts", async () => {
    const controller = new AbortController();
    const t0 = Date.now();
    setTimeout(() => controller.abort(new Error("aborted")), 50);
    await expect(poll(() => undefined, { timeoutMs: 60_000, intervalMs: 10_000, what: "x", signal: controller.signal })).rejects.toThrow("aborted");
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});

describe("M3AggregatorCluster.start without an engine in reach", () => {
  test("startTimeoutMs bounds the wait for the reuse lock: the start fails in phase \"claim\" within its budget", async () => {
    const options = { nodes: 2, rf: 2, reuse: true, electionTtlSeconds: 11, startTimeoutMs: 1_500 };
    const key = new M3AggregatorCluster(options).options.reuseKey;
    const release = await acquireLock(`reuse-${key}`, 1_000); // another process deciding about the same kept cluster
    try {
      const t0 = Date.now();
      const error = await M3AggregatorCluster.start(options).catch((e: unknown) => e);
      const took = Date.now() - t0;
      expect(error).toBeInstanceOf(ClusterStartError);
      expect((error as ClusterStartError).phase).toBe("claim");
      expect((error as Error).message).toMatch(/startTimeoutMs=1500|still held|is held by pid/);
      expect((error as Error).message).toContain("(nothing had been started)");
      expect(took).toBeGreaterThanOrEqual(1_400);
      expect(took).toBeLessThan(3_000); // was: 300 s of lock wait outside the start's timeout
    } finally {
      release();
    }
  });

  test("a clusterId whose lock a live process holds is refused at once, and its lock is left alone", async () => {
    const clusterId = `dup-${process.pid}-${Date.now()}`;
    const other = tryLock(clusterLockName(clusterId)); // a live start of that id
    if (!("release" in other)) throw new Error("could not take the lock");
    try {
      const t0 = Date.now();
      const error = await M3AggregatorCluster.start({ nodes: 2, rf: 2, clusterId }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClusterIdInUseError);
      expect((error as Error).message).toContain(`cluster id ${clusterId} is in use by this process`);
      expect((error as Error).message).toContain("nothing of it was touched");
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(lockOwner(clusterLockName(clusterId))?.file).toBe(other.file);
      expect(fs.existsSync(other.file)).toBe(true);
    } finally {
      other.release();
    }
  });

  test("an aborted signal: the start rejects without starting anything", async () => {
    const error = await new M3AggregatorCluster({ nodes: 2, rf: 2 }).start({ signal: AbortSignal.abort(new Error("no time")) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterStartError);
    expect((error as Error).message).toContain("the start was aborted: no time");
    expect((error as Error).message).toContain("(nothing had been started)");
  });
});

describe("stop()", () => {
  test("after a failed teardown stop() can be called again, and then succeeds", async () => {
    const plan = { inputs: { options: resolveOptions({ nodes: 2, rf: 2, clusterId: "retry-me" }), ports: {}, images: {} }, tls: undefined };
    const cluster = new StartedM3AggregatorCluster(plan as never, { setNetwork: () => undefined } as never, { admin: {} } as never, [], { total: 0 }, false);
    const report = { clusterId: "retry-me", removed: ["etcd"], left: ["node1"], portsReleased: [] };
    const teardown = jest.spyOn(live, "teardown")
      .mockRejectedValueOnce(new live.TeardownError(report))
      .mockResolvedValueOnce({ ...report, removed: ["node1"], left: [] });
    const first = await cluster.stop().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(live.TeardownError);
    expect((first as Error).message).toContain("left node1 (removed: etcd)");
    expect(cluster.getStopTimeMs()).toBeUndefined();
    await expect(cluster.stop()).resolves.toBeUndefined();
    expect(teardown).toHaveBeenCalledTimes(2);
    expect(cluster.getStopTimeMs()).toEqual(expect.any(Number));
    await cluster.stop(); // stopped: idempotent, no third teardown
    expect(teardown).toHaveBeenCalledTimes(2);
  });
});

describe("kept (reuse) clusters and Ryuk", () => {
  const IMAGES = {
    etcd: { image: "m3agg-local/etcd:test", source: "local" },
    m3coordinator: { image: "m3agg-local/m3coordinator:test", source: "local" },
    m3aggregator: { image: "m3agg-local/m3aggregator:test", source: "local" },
  } as const;
  const PORTS = { host: "127.0.0.1", etcdClient: 21379, etcdPeer: 21380, coordinator: 21201, coordinatorMetrics: 21203,
    nodes: [{ http: 22001, metrics: 22002, tcp: 22003 }, { http: 22011, metrics: 22012, tcp: 22013 }] };
  const specsOf = (reuse: boolean) => {
    const plan = planCluster({ options: resolveOptions({ nodes: 2, rf: 2, reuse, tls: false }), ports: PORTS, images: { ...IMAGES } });
    return [plan.etcd.container, plan.coordinator.container, ...plan.nodes.map((n) => n.container)];
  };

  test("a kept cluster's containers do not get Testcontainers' session label (Ryuk reaps by it), nor an owner pid", () => {
    for (const spec of specsOf(true)) {
      expect(spec.labels).toHaveProperty([LABEL_REUSE]);
      expect(prepareContainer(spec).reapedWithSession).toBe(false);
      expect(ownerLabels(spec.labels)).not.toHaveProperty([LABEL_OWNER_PID]);
    }
    // A cluster of this process may die with its session.
    for (const spec of specsOf(false)) expect(prepareContainer(spec).reapedWithSession).toBe(true);
    const owner = ownerLabels(specsOf(false)[0]!.labels);
    expect(owner[LABEL_OWNER_PID]).toBe(String(process.pid));
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    expect(owner[LABEL_OWNER_START]).toBe(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  });
});
