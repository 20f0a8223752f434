/**
 * Chaos timelines for the load harness: timed steps (kill the leader of a shard set, cut a
 * node's link for 8 s, restart node 3, …) run against the cluster while runLoad sends, and a
 * timeline of what happened: each step and its outcome, each change of leader per shard set
 * (polled), each placement version, and per-second series of sent metrics, counter increments
 * observed at the sink and each node's CPU. Steps are checked before the run: a bad step is
 * refused naming its index, the step and the rule.
 *
 * Node numbers in steps are 1-based like the instance ids (node 3 = m3aggregator03).
 */
import type { FaultRecord } from "../faults/network";
import { containerCpuSecondsEach } from "../docker/client";

/** Links a network step can name (a node's), or "all". */
export type ChaosLink = "etcd" | "ingest" | "flush" | "all";

/** One timed step. `at` and `for` are durations like "5s", "500ms", "1.5m" (from the start of the send). */
export type ChaosStep =
  | { at: string; do: "kill-leader" | "resign-leader"; shardSet: number; for?: string }
  | { at: string; do: "kill" | "stop" | "pause"; node: number | string; for?: string }
  | { at: string; do: "start" | "restart" | "unpause"; node: number | string }
  | { at: string; do: "cut"; node: number | string; link: ChaosLink; for?: string }
  | { at: string; do: "latency"; node: number | string; link: ChaosLink; ms: number; jitterMs?: number; for?: string }
  | { at: string; do: "bandwidth"; node: number | string; link: ChaosLink; kbPerSecond: number; for?: string }
  | { at: string; do: "reset"; node: number | string; link: ChaosLink }
  | { at: string; do: "heal"; node?: number | string; link?: ChaosLink }
  | { at: string; do: "isolate"; node: number | string; for?: string }
  | { at: string; do: "cut-etcd"; for?: string }
  | { at: string; do: "add-nodes"; count?: number };

export const CHAOS_ACTIONS = [
  "kill-leader", "resign-leader", "kill", "stop", "pause", "start", "restart", "unpause",
  "cut", "latency", "bandwidth", "reset", "heal", "isolate", "cut-etcd", "add-nodes",
] as const;
type Action = (typeof CHAOS_ACTIONS)[number];

/** A refused step: its index, the step, the rule. */
export class ChaosStepError extends Error {
  override readonly name = "ChaosStepError";
  constructor(readonly index: number, readonly step: unknown, readonly rule: string) {
    super(`chaos step ${index + 1} ${JSON.stringify(step)}: ${rule}`);
  }
}

/** What the checks need to know of the cluster and the run. */
export interface ChaosContext {
  /** Instance ids in node order. */
  nodeIds: string[];
  shardSets: number;
  /** Replication factor: add-nodes adds whole shard sets. */
  rf: number;
  faults: boolean;
  /** Length of the send; every step (and its `for`) must end within it. */
  durationMs: number;
}

/** A checked step: times in ms, the node resolved to its instance id. */
export interface PlannedStep {
  index: number;
  step: ChaosStep;
  action: Action;
  atMs: number;
  forMs: number | undefined;
  node: string | undefined;
  shardSet: number | undefined;
  link: ChaosLink | undefined;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;

/** "5s" → 5000, "500ms" → 500, "1.5m" → 90000; undefined when not such a string. */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const value = Number(match[1]);
  return Math.round(value * (match[2] === "ms" ? 1 : match[2] === "s" ? 1000 : 60_000));
}

const KEYS: Record<Action, string[]> = {
  "kill-leader": ["shardSet", "for"], "resign-leader": ["shardSet"],
  kill: ["node", "for"], stop: ["node", "for"], pause: ["node", "for"], start: ["node"], restart: ["node"], unpause: ["node"],
  cut: ["node", "link", "for"], latency: ["node", "link", "ms", "jitterMs", "for"], bandwidth: ["node", "link", "kbPerSecond", "for"],
  reset: ["node", "link"], heal: ["node", "link"], isolate: ["node", "for"], "cut-etcd": ["for"], "add-nodes": ["count"],
};
const NETWORK: ReadonlySet<Action> = new Set(["cut", "latency", "bandwidth", "reset", "heal", "isolate", "cut-etcd"]);
const LINKS: readonly ChaosLink[] = ["etcd", "ingest", "flush", "all"];

/** Checks every step against the cluster and the run; throws {@link ChaosStepError} on the first bad one. */
export function planChaos(steps: unknown, context: ChaosContext): PlannedStep[] {
  if (!Array.isArray(steps)) throw new ChaosStepError(-1, steps, "chaos must be an array of steps");
  const planned = steps.map((raw, index): PlannedStep => {
    const fail = (rule: string): never => {
      throw new ChaosStepError(index, raw, rule);
    };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("a step is an object like { at: \"5s\", do: \"kill-leader\", shardSet: 1 }");
    const step = raw as Record<string, unknown>;
    const action = step.do as Action;
    if (!CHAOS_ACTIONS.includes(action)) fail(`"do" must be one of ${CHAOS_ACTIONS.join(", ")}`);
    for (const key of Object.keys(step)) {
      if (key !== "at" && key !== "do" && !KEYS[action].includes(key)) fail(`"${key}" is not a field of "${action}" (fields: at, do, ${KEYS[action].join(", ")})`);
    }
    const atMs = parseDuration(step.at) ?? fail(`"at" must be a duration like "5s", "500ms" or "1.5m", from the start of the send`);
    if (atMs > context.durationMs) fail(`"at" ${String(step.at)} is after the end of the send (${context.durationMs / 1000} s)`);
    let forMs: number | undefined;
    if (step.for !== undefined) {
      forMs = parseDuration(step.for) ?? fail(`"for" must be a duration like "8s"`);
      if (forMs <= 0) fail(`"for" must be longer than 0`);
      if (atMs + forMs > context.durationMs) fail(`ends at ${(atMs + forMs) / 1000} s, after the end of the send (${context.durationMs / 1000} s): the run must end healed`);
    }
    if (action === "add-nodes") {
      if (context.faults) fail(`needs a cluster without faults: true (its Toxiproxy has proxies only for the nodes it started with)`);
      const count = step.count ?? context.rf;
      if (typeof count !== "number" || !Number.isInteger(count) || count < context.rf || count % context.rf !== 0) {
        fail(`"count" must be a whole multiple of rf (${context.rf}): nodes are added as whole shard sets`);
      }
    }
    if (NETWORK.has(action) && !context.faults) fail(`"${action}" needs a cluster started with faults: true (every link through Toxiproxy)`);
    let node: string | undefined;
    if (step.node !== undefined || KEYS[action].includes("node") && action !== "heal") {
      const given = step.node;
      if (typeof given === "number") {
        if (!Number.isInteger(given) || given < 1 || given > context.nodeIds.length) fail(`"node" ${given} is not a node number (1..${context.nodeIds.length}, 1 = ${context.nodeIds[0]})`);
        node = context.nodeIds[given - 1];
      } else if (typeof given === "string" && context.nodeIds.includes(given)) {
        node = given;
      } else {
        fail(`"node" must be a node number 1..${context.nodeIds.length} or an instance id (${context.nodeIds.join(", ")})`);
      }
    }
    let shardSet: number | undefined;
    if (KEYS[action].includes("shardSet")) {
      const given = step.shardSet;
      if (typeof given !== "number" || !Number.isInteger(given) || given < 1 || given > context.shardSets) fail(`"shardSet" must be a shard set id 1..${context.shardSets}`);
      shardSet = given as number;
    }
    let link: ChaosLink | undefined;
    if (step.link !== undefined || ["cut", "latency", "bandwidth", "reset"].includes(action)) {
      if (!LINKS.includes(step.link as ChaosLink)) fail(`"link" must be one of ${LINKS.join(", ")}`);
      link = step.link as ChaosLink;
    }
    if (action === "latency") {
      for (const key of ["ms", "jitterMs"]) {
        const v = step[key];
        if ((key === "ms" || v !== undefined) && (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 600_000)) fail(`"${key}" must be whole milliseconds 0..600000`);
      }
    }
    if (action === "bandwidth" && (typeof step.kbPerSecond !== "number" || !Number.isInteger(step.kbPerSecond) || step.kbPerSecond < 1)) fail(`"kbPerSecond" must be a whole number of KB/s, at least 1`);
    if (action === "heal" && step.link !== undefined && step.node === undefined) fail(`"link" needs "node" (a heal without node heals every link of the cluster)`);
    return { index, step: raw as ChaosStep, action, atMs, forMs, node, shardSet, link };
  });
  return planned.sort((a, b) => a.atMs - b.atMs || a.index - b.index);
}

/** A node as the chaos runner drives it. */
export interface ChaosNode {
  readonly id: string;
  getId(): string;
  kill(): Promise<void>;
  stop(): Promise<unknown>;
  start(): Promise<void>;
  restart(): Promise<void>;
  pause(): Promise<void>;
  unpause(): Promise<void>;
  state(): Promise<string>;
  resign(timeoutMs?: number): Promise<void>;
  readonly network: {
    cut(link: ChaosLink): Promise<FaultRecord>; heal(link?: ChaosLink): Promise<FaultRecord>; reset(link: ChaosLink): Promise<FaultRecord>;
    latency(link: ChaosLink, o: { ms: number; jitterMs?: number }): Promise<FaultRecord>; bandwidth(link: ChaosLink, kbPerSecond: number): Promise<FaultRecord>;
  };
}

/** What the chaos runner needs of a cluster: a started cluster (of this process) fits. */
export interface ChaosTarget {
  getId(): string;
  readonly nodes: readonly ChaosNode[];
  readonly options: { faults: boolean; rf: number; nodes: number };
  readonly etcd: { readonly network: { cut(): Promise<FaultRecord>; heal(): Promise<FaultRecord> } };
  readonly admin: { getPlacement(service: "m3aggregator"): Promise<{ version: number }> };
  node(which: number | string): ChaosNode;
  leaders(): Promise<Map<number, string | undefined>>;
  isolate(which: number | string): Promise<FaultRecord>;
  healAll(): Promise<FaultRecord>;
  /** Live topology: adds whole shard sets, resolving when the change is complete. */
  addNodes(count?: number): Promise<{ nodes: ReadonlyArray<{ readonly id: string }>; change: { placementVersions: { after: number }; totalMs: number } }>;
}

/** What a timeline without steps samples: the nodes' containers (CPU only when every node is a container of this process's engine). */
export interface SampledTarget {
  getId(): string;
  readonly nodes: ReadonlyArray<{ readonly id: string; getId?(): string }>;
}

/**
 * Checks the steps against `cluster` before a load begins (throws {@link ChaosStepError} naming
 * the step and the rule), and returns what starts the timeline once the send starts.
 */
export function prepareTimeline(cluster: ChaosTarget | SampledTarget, steps: unknown, durationMs: number): { begin(startedAtMs: number): ChaosRun } {
  let planned: PlannedStep[] = [];
  if (steps !== undefined && !(Array.isArray(steps) && steps.length === 0)) {
    if (!isChaosTarget(cluster)) throw new ChaosStepError(-1, steps, `chaos needs a cluster handle started by this process (cluster ${cluster.getId()} is a bare load target)`);
    if (!Number.isFinite(durationMs)) throw new ChaosStepError(-1, steps, "chaos needs a load with durationSeconds (steps are placed on the send's time axis)");
    const shardSets = cluster.options.nodes / cluster.options.rf;
    planned = planChaos(steps, { nodeIds: cluster.nodes.map((n) => n.id), shardSets, rf: cluster.options.rf, faults: cluster.options.faults, durationMs });
  }
  return { begin: (startedAtMs) => new ChaosRun(cluster, planned, startedAtMs) };
}

/** True when `cluster` can run chaos steps (a started cluster handle, not a bare load target). */
export function isChaosTarget(cluster: unknown): cluster is ChaosTarget {
  const c = cluster as Partial<ChaosTarget> | null;
  return typeof c === "object" && c !== null && typeof c.leaders === "function" && typeof c.node === "function" && typeof c.admin?.getPlacement === "function" && typeof c.options === "object";
}

/** What one step did. */
export interface StepOutcome {
  index: number;
  do: Action;
  step: ChaosStep;
  /** Planned time, ms from the start of the send. */
  atMs: number;
  /** When it began and ended, ms from the start of the send. */
  startedMs: number;
  endedMs: number;
  ok: boolean;
  /** What it did ("killed m3aggregator01 (leader of shard set 1)") or why it failed. */
  detail: string;
  /** For `for` steps: when the undo (heal, start, unpause) ended, and how. */
  undo?: { startedMs: number; endedMs: number; ok: boolean; detail: string };
}

/** The run as it happened, for the report (times in ms from the start of the send). */
export interface LoadTimeline {
  /** Wall-clock time of the start of the send (ms since the epoch). */
  startedAtMs: number;
  steps: StepOutcome[];
  /** Each change of leader per shard set as polled once a second (null: none or several). */
  leaderChanges: Array<{ tMs: number; shardSet: number; leader: string | null }>;
  /** Each placement version seen (polled once a second). */
  placementVersions: Array<{ tMs: number; version: number }>;
  /** Per-second samples. */
  series: {
    tMs: number[];
    /** Metrics sent so far, at each sample. */
    sentTotal: number[];
    /** Counter increments observed at the sink so far, at each sample (null without a sink). */
    observedTotal: Array<number | null>;
    /** Metrics sent since the sample before, per second. */
    sentPerSec: number[];
    /** Counter increments newly observed at the sink in the second before (per second); null without a sink. */
    observedPerSec: Array<number | null>;
    /** CPU of each node (cores, 1 = one full core) over the second before; null where unknown. */
    cpu: Record<string, Array<number | null>>;
    /** Leader of each shard set at each sample (instance id, or null). */
    leaders: Record<string, Array<string | null>>;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sleeps until the wall clock reaches `atMs` (a timer may fire a millisecond early). */
async function sleepUntil(atMs: number): Promise<void> {
  while (Date.now() < atMs) await sleep(atMs - Date.now());
}

/** Resolves with `work`'s value, or undefined after `ms` (the work goes on, its result ignored). */
async function within<T>(ms: number, work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  try {
    return await Promise.race([work.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the planned steps and samples the cluster while the load runs. */
export class ChaosRun {
  private readonly timeline: LoadTimeline;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<void>>();
  private sampling = false;
  private lastSample: { tMs: number; sent: number; observed: number | null; cpu: Array<number | null> } | undefined;
  private readonly lastLeader = new Map<number, string | null>();
  private lastVersion: number | undefined;

  private readonly full: ChaosTarget | undefined;

  /** `cluster`: a started cluster; a bare load target gets only the sent/observed/CPU series (no steps allowed). */
  constructor(private readonly cluster: ChaosTarget | SampledTarget, steps: PlannedStep[], private readonly startedAtMs: number) {
    this.full = isChaosTarget(cluster) ? cluster : undefined;
    if (steps.length > 0 && this.full === undefined) throw new Error("chaos steps need a started cluster handle");
    this.timeline = {
      startedAtMs, steps: [], leaderChanges: [], placementVersions: [],
      series: { tMs: [], sentTotal: [], observedTotal: [], sentPerSec: [], observedPerSec: [], cpu: Object.fromEntries(cluster.nodes.map((n) => [n.id, []])), leaders: {} },
    };
    for (const step of steps) {
      this.timers.push(setTimeout(() => this.track(sleepUntil(startedAtMs + step.atMs).then(() => this.runStep(step))), Math.max(0, startedAtMs + step.atMs - Date.now())));
    }
  }

  private now(): number {
    return Date.now() - this.startedAtMs;
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async act(step: PlannedStep): Promise<string> {
    const c = this.full as ChaosTarget;
    const node = step.node === undefined ? undefined : c.node(step.node);
    const s = step.step as Record<string, unknown>;
    switch (step.action) {
      case "kill-leader":
      case "resign-leader": {
        const leader = (await c.leaders()).get(step.shardSet as number);
        if (leader === undefined) throw new Error(`shard set ${step.shardSet} has no single leader right now`);
        step.node = leader; // the undo (for) restarts this one
        if (step.action === "kill-leader") await c.node(leader).kill();
        else await c.node(leader).resign(30_000);
        return `${step.action === "kill-leader" ? "killed" : "resigned"} ${leader} (leader of shard set ${step.shardSet})`;
      }
      case "kill": await node!.kill(); return `killed ${node!.id}`;
      case "stop": await node!.stop(); return `stopped ${node!.id}`;
      case "pause": await node!.pause(); return `paused ${node!.id}`;
      case "start": await node!.start(); return `started ${node!.id} (ready)`;
      case "restart": await node!.restart(); return `restarted ${node!.id} (ready)`;
      case "unpause": await node!.unpause(); return `unpaused ${node!.id} (ready)`;
      case "cut": await node!.network.cut(step.link!); return `cut ${node!.id} ${step.link}`;
      case "latency": await node!.network.latency(step.link!, { ms: s.ms as number, jitterMs: s.jitterMs as number | undefined }); return `latency ${node!.id} ${step.link} +${s.ms as number} ms`;
      case "bandwidth": await node!.network.bandwidth(step.link!, s.kbPerSecond as number); return `bandwidth ${node!.id} ${step.link} ${s.kbPerSecond as number} KB/s`;
      case "reset": await node!.network.reset(step.link!); return `reset ${node!.id} ${step.link}`;
      case "heal":
        if (node === undefined) { await c.healAll(); return "healed every link"; }
        await node.network.heal(step.link ?? "all"); return `healed ${node.id} ${step.link ?? "all"}`;
      case "isolate": await c.isolate(node!.id); return `isolated ${node!.id}`;
      case "cut-etcd": await c.etcd.network.cut(); return "cut every link to etcd";
      case "add-nodes": {
        const { nodes, change } = await c.addNodes(s.count as number | undefined);
        return `added ${nodes.map((n) => n.id).join(", ")} (placement version ${change.placementVersions.after}, complete in ${change.totalMs} ms)`;
      }
    }
  }

  private async undo(step: PlannedStep): Promise<string> {
    const c = this.full as ChaosTarget;
    const node = step.node === undefined ? undefined : c.node(step.node);
    switch (step.action) {
      case "kill-leader": case "kill": case "stop": await node!.start(); return `started ${node!.id} again (ready)`;
      case "pause": await node!.unpause(); return `unpaused ${node!.id} (ready)`;
      case "cut": case "latency": case "bandwidth": await node!.network.heal(step.link!); return `healed ${node!.id} ${step.link}`;
      case "isolate": await node!.network.heal("all"); return `healed ${node!.id} all`;
      case "cut-etcd": await c.etcd.network.heal(); return "healed every link to etcd";
      default: return "nothing to undo";
    }
  }

  private async runStep(step: PlannedStep): Promise<void> {
    const outcome: StepOutcome = { index: step.index, do: step.action, step: step.step, atMs: step.atMs, startedMs: this.now(), endedMs: 0, ok: false, detail: "" };
    this.timeline.steps.push(outcome);
    try {
      outcome.detail = await this.act(step);
      outcome.ok = true;
    } catch (error) {
      outcome.detail = (error as Error).message;
    }
    outcome.endedMs = this.now();
    if (step.forMs !== undefined && outcome.ok) {
      await sleepUntil(this.startedAtMs + step.atMs + step.forMs);
      const undo = { startedMs: this.now(), endedMs: 0, ok: false, detail: "" };
      outcome.undo = undo;
      try {
        undo.detail = await this.undo(step);
        undo.ok = true;
      } catch (error) {
        undo.detail = (error as Error).message;
      }
      undo.endedMs = this.now();
    }
  }

  /**
   * One per-second sample: `sent` and `observed` are totals so far (observed: counter increments
   * at the sink, null without one). Leaders, placement version and CPU are polled here; a sample
   * still running when the next is due is skipped.
   */
  sample(sent: number, observed: number | null): void {
    if (this.sampling) return;
    this.sampling = true;
    void this.takeSample(sent, observed).finally(() => { this.sampling = false; });
  }

  private async takeSample(sent: number, observed: number | null): Promise<void> {
    const c = this.cluster;
    const full = this.full;
    const [leaders, placement, cpu] = await Promise.all([
      full === undefined ? undefined : within(900, full.leaders()),
      full === undefined ? undefined : within(900, full.admin.getPlacement("m3aggregator")),
      c.nodes.every((n) => n.getId !== undefined) ? within(900, containerCpuSecondsEach(c.nodes.map((n) => n.getId?.() as string))) : undefined,
    ]);
    const tMs = this.now();
    const cpuNow: Array<number | null> = c.nodes.map((_, i) => cpu?.[i] ?? null);
    const last = this.lastSample;
    this.lastSample = { tMs, sent, observed, cpu: cpuNow };
    if (leaders !== undefined) {
      for (const [shardSet, leader] of leaders) {
        const now = leader ?? null;
        if (!this.lastLeader.has(shardSet) || this.lastLeader.get(shardSet) !== now) {
          this.lastLeader.set(shardSet, now);
          this.timeline.leaderChanges.push({ tMs, shardSet, leader: now });
        }
      }
    }
    if (placement !== undefined && placement.version !== this.lastVersion) {
      this.lastVersion = placement.version;
      this.timeline.placementVersions.push({ tMs, version: placement.version });
    }
    if (last === undefined) return; // rates need two samples
    const seconds = Math.max(0.001, (tMs - last.tMs) / 1000);
    const series = this.timeline.series;
    series.tMs.push(tMs);
    series.sentTotal.push(sent);
    series.observedTotal.push(observed);
    series.sentPerSec.push(Math.round((sent - last.sent) / seconds));
    series.observedPerSec.push(observed === null || last.observed === null ? null : Math.round((observed - last.observed) / seconds));
    c.nodes.forEach((n, i) => {
      const before = last.cpu[i];
      const after = cpuNow[i];
      // A restarted container's counter starts again from 0: no CPU figure across the restart.
      series.cpu[n.id]?.push(before == null || after == null || after < before ? null : Math.round(((after - before) / seconds) * 1000) / 1000);
    });
    for (const [shardSet, leader] of this.lastLeader) {
      (series.leaders[String(shardSet)] ??= Array(series.tMs.length - 1).fill(null)).push(leader);
    }
  }

  /** Stops the step timers (steps not yet begun never run). */
  cancel(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  /** Waits until every step that started (and its undo) has ended. */
  async stepsDone(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running, sleep(50)]);
  }

  /**
   * Stops the step timers, waits for steps (and their undos) in flight, takes a last sample of the
   * totals so far (so the series add up to them), and returns the timeline.
   */
  async finish(sent: number, observed: number | null): Promise<LoadTimeline> {
    for (const t of this.timers) clearTimeout(t);
    while (this.running.size > 0 || this.sampling) await Promise.all([...this.running, sleep(50)]);
    await this.takeSample(sent, observed);
    this.timeline.steps.sort((a, b) => a.atMs - b.atMs || a.index - b.index);
    return this.timeline;
  }
}

/** The timeline as text lines (for the CLI report). */
export function formatTimeline(t: LoadTimeline): string[] {
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    "chaos steps:",
    ...(t.steps.length === 0 ? ["  none"] : t.steps.map((s) => `  ${sec(s.atMs).padStart(7)}  ${s.do.padEnd(13)} ${s.ok ? "ok    " : "FAILED"} ${s.detail}${s.undo === undefined ? "" : `; at ${sec(s.undo.startedMs)}: ${s.undo.detail}${s.undo.ok ? "" : " (FAILED)"}`}`)),
    "leader changes (polled each second):",
    ...(t.leaderChanges.length === 0 ? ["  none"] : t.leaderChanges.map((c) => `  ${sec(c.tMs).padStart(7)}  shard set ${c.shardSet}: ${c.leader ?? "none or several"}`)),
    `placement versions: ${t.placementVersions.map((v) => `v${v.version} at ${sec(v.tMs)}`).join(", ") || "-"}`,
  ];
}
