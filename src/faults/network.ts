/**
 * Faults on the links of a `faults: true` cluster, through its Toxiproxy: cut (no byte passes
 * either way until heal), reset (every open connection gets a TCP RST), latency, bandwidth, heal.
 * Every fault is recorded with its time in the cluster's {@link FaultLog}. Without `faults: true`
 * every method throws a {@link FaultsDisabledError} naming the option.
 */
import type { NodeLink } from "./plan";
import { NODE_LINKS } from "./plan";
import type { ToxicSpec, ToxiproxyClient } from "./toxiproxy-client";

/** What was done to which link, and when. */
export interface FaultRecord {
  /** Milliseconds since the epoch when the fault took effect (after Toxiproxy answered). */
  atMs: number;
  /** Node id, "m3coordinator", "etcd" (every link to etcd) or "cluster". */
  target: string;
  action: "cut" | "reset" | "latency" | "bandwidth" | "heal" | "isolate" | "heal-all";
  links: string[];
  detail?: Record<string, number>;
}

/** The cluster's record of faults, oldest first. */
export class FaultLog {
  private readonly records: FaultRecord[] = [];
  add(record: Omit<FaultRecord, "atMs">): FaultRecord {
    const full = { atMs: Date.now(), ...record };
    this.records.push(full);
    return full;
  }
  /** A copy of every record so far. */
  list(): FaultRecord[] {
    return this.records.map((r) => ({ ...r, links: [...r.links] }));
  }
}

/** A fault method was called on a cluster started without `faults: true`. */
export class FaultsDisabledError extends Error {
  override readonly name = "FaultsDisabledError";
  constructor(readonly method: string, clusterId: string) {
    super(`${method} needs network faults, which cluster ${clusterId} was started without: start it with the option faults: true ` +
      "(M3AggregatorCluster.start({ faults: true }), `m3agg up --faults`), which routes every link through Toxiproxy");
  }
}

/** Link names a node method accepts. */
export type LinkSelector = NodeLink | "all";

/** Toxic names the fixture sets (one of each kind per direction). */
const TOXIC = {
  cut: "m3agg-cut",
  latency: "m3agg-latency",
  bandwidth: "m3agg-bandwidth",
  reset: "m3agg-reset",
} as const;
const STREAMS = ["upstream", "downstream"] as const;

/** How long a reset's reset_peer toxic stays on: long enough for every open connection to be reset. */
const RESET_HOLD_MS = 250;
/**
 * A cut holds every byte: a latency toxic of a day in both directions. Bytes already accepted by
 * the proxy are delivered on heal, none is dropped (like TCP across a partition that heals before
 * its timeouts); the proxy still accepts new connections, which then stall the same way.
 */
const CUT_LATENCY_MS = 86_400_000;

/** Faults on a set of proxies (one node's links, or every link to etcd). */
export class LinkFaults {
  constructor(
    private readonly client: ToxiproxyClient | undefined,
    private readonly clusterId: string,
    /** Node id, "m3coordinator" or "etcd": names the target in records and errors. */
    readonly target: string,
    /** Proxy names by link. */
    private readonly proxiesByLink: ReadonlyMap<string, readonly string[]>,
    private readonly log: FaultLog | undefined,
    private readonly methodPrefix: string,
  ) {}

  private api(method: string): { client: ToxiproxyClient; log: FaultLog } {
    if (this.client === undefined || this.log === undefined) throw new FaultsDisabledError(`${this.methodPrefix}.${method}()`, this.clusterId);
    return { client: this.client, log: this.log };
  }

  /** The proxies of `link` ("all": every link); throws naming the known links. */
  proxiesOf(link: string): string[] {
    if (link === "all") return [...this.proxiesByLink.values()].flat();
    const proxies = this.proxiesByLink.get(link);
    if (proxies === undefined) {
      throw new Error(`${this.target} has no link ${JSON.stringify(link)} (links: ${[...this.proxiesByLink.keys()].join(", ")}, or "all")`);
    }
    return [...proxies];
  }

  private linksOf(link: string): string[] {
    return link === "all" ? [...this.proxiesByLink.keys()] : [link];
  }

  private async setToxic(client: ToxiproxyClient, proxies: string[], base: string, spec: ToxicSpec): Promise<void> {
    await Promise.all(proxies.flatMap((proxy) => STREAMS.map(async (stream) => {
      const name = `${base}-${stream}`;
      await client.removeToxic(proxy, name).catch(() => undefined); // absent: nothing to replace
      await client.addToxic(proxy, { ...spec, name, stream });
    })));
  }

  /** No byte passes on `link` ("all": every link) in either direction until {@link heal}. */
  async cut(link: LinkSelector = "all"): Promise<FaultRecord> {
    const { client, log } = this.api("cut");
    await this.setToxic(client, this.proxiesOf(link), TOXIC.cut, { type: "latency", attributes: { latency: CUT_LATENCY_MS, jitter: 0 } });
    return log.add({ target: this.target, action: "cut", links: this.linksOf(link) });
  }

  /** Resets (TCP RST) every open connection of `link`; new connections work again right after. */
  async reset(link: LinkSelector): Promise<FaultRecord> {
    const { client, log } = this.api("reset");
    const proxies = this.proxiesOf(link);
    await Promise.all(proxies.map((proxy) => client.addToxic(proxy, { name: TOXIC.reset, stream: "upstream", type: "reset_peer", attributes: { timeout: 0 } })));
    await new Promise((resolve) => setTimeout(resolve, RESET_HOLD_MS));
    await Promise.all(proxies.map((proxy) => client.removeToxic(proxy, TOXIC.reset)));
    return log.add({ target: this.target, action: "reset", links: this.linksOf(link) });
  }

  /** Adds `ms` (± `jitterMs`) to every chunk in each direction of `link`; replaces an earlier latency. */
  async latency(link: LinkSelector, options: { ms: number; jitterMs?: number }): Promise<FaultRecord> {
    const { client, log } = this.api("latency");
    const jitter = options.jitterMs ?? 0;
    for (const [name, value] of [["ms", options.ms], ["jitterMs", jitter]] as const) {
      if (!Number.isInteger(value) || value < 0 || value > 600_000) throw new Error(`latency ${name}=${value}: must be an integer number of milliseconds, 0–600000`);
    }
    await this.setToxic(client, this.proxiesOf(link), TOXIC.latency, { type: "latency", attributes: { latency: options.ms, jitter } });
    return log.add({ target: this.target, action: "latency", links: this.linksOf(link), detail: { ms: options.ms, jitterMs: jitter } });
  }

  /** Limits each direction of `link` to `kbPerSecond` kilobytes per second (Toxiproxy's unit); replaces an earlier limit. */
  async bandwidth(link: LinkSelector, kbPerSecond: number): Promise<FaultRecord> {
    const { client, log } = this.api("bandwidth");
    if (!Number.isInteger(kbPerSecond) || kbPerSecond < 1) throw new Error(`bandwidth ${kbPerSecond}: must be a whole number of KB/s, at least 1 (cut() stops a link)`);
    await this.setToxic(client, this.proxiesOf(link), TOXIC.bandwidth, { type: "bandwidth", attributes: { rate: kbPerSecond } });
    return log.add({ target: this.target, action: "bandwidth", links: this.linksOf(link), detail: { kbPerSecond } });
  }

  /** Removes every fault from `link` (default: every link of this target); held bytes are delivered. */
  async heal(link: LinkSelector = "all"): Promise<FaultRecord> {
    const { client, log } = this.api("heal");
    await Promise.all(this.proxiesOf(link).map(async (proxy) => {
      for (const toxic of await client.toxics(proxy)) await client.removeToxic(proxy, toxic.name);
    }));
    return log.add({ target: this.target, action: "heal", links: this.linksOf(link) });
  }
}

/** A node's links: `node.network.cut("etcd")`, `.latency("ingest", { ms: 200 })`, `.heal()`. */
export type NodeNetwork = LinkFaults;

/** The links to etcd (every node's and the coordinator's): `cluster.etcd.network.cut()`. */
export type EtcdNetwork = Pick<LinkFaults, "cut" | "heal" | "latency" | "reset">;

/** Every link name a node has. */
export function nodeLinkMap(nodeId: string): Map<string, string[]> {
  return new Map(NODE_LINKS.map((link) => [link, [`${nodeId}.${link}`]]));
}
