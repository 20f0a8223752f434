/**
 * Command-line and seed env-var parsing for the CLI. Flags win over the
 * seed's env vars (M3_AGGREGATOR_NODE_COUNT, …), which win over defaults.
 */
import type { M3AggregatorClusterOptions } from "../model/options";
import type { Metric } from "../ingest/encoder";
import { eachFlag, parseUp, SwarmFlags, type Target, toInteger, type UpCommand, UsageError } from "./up-args";
import { type LoadCommand, LOAD_USAGE, parseLoadArgs } from "./load";
import { parseScaleArgs, type ScaleCommand, SCALE_USAGE } from "./scale";
import { registryProblem, REGISTRY_RULE } from "../model/registry";

export { parseUp, type Target, type UpCommand, UsageError } from "./up-args";

/** `logs`: captured lines of one container or all, or (--follow) live. */
export interface LogsCommand {
  command: "logs";
  target: Target;
  component: string | undefined;
  tail: number | undefined;
  follow: boolean;
  /** Keep m3's JSON lines as they are (default: rendered as `time level msg key=value`). */
  raw: boolean;
  /** Only lines since this time (RFC 3339, or a duration like 10s, 5m, 1h ago). */
  since: string | undefined;
}

export type Command =
  | { command: "help" }
  | UpCommand
  | { command: "down"; target: Target; all: boolean; json: boolean }
  | { command: "status"; target: Target; json: boolean }
  | { command: "send"; target: Target; json: boolean; node: string | undefined; metrics: Metric[] }
  | { command: "connectivity"; target: Target; json: boolean }
  | LogsCommand
  | { command: "doctor"; fix: boolean; json: boolean }
  | LoadCommand
  | ScaleCommand
  /** Runs the package's images/build.sh with `args` (only its known flags, in the order given). */
  | { command: "images"; args: string[]; save?: string; load?: string; push?: string }
  | RenderCommand;

/** `m3agg render --target kubernetes|swarm [up's cluster flags] [--registry R] [--out DIR]`. */
export interface RenderCommand {
  command: "render";
  target: "kubernetes" | "swarm";
  options: M3AggregatorClusterOptions;
  /** Directory to write the files to (swarm: the stack file and its config files). */
  out: string | undefined;
}

/** `render`: its own flags, then up's cluster flags (nodes, rf, tls, m3 version, cluster id, …). */
function parseRender(rest: string[], env: NodeJS.ProcessEnv): RenderCommand {
  let target: string | undefined;
  let registry: string | undefined;
  let out: string | undefined;
  const clusterFlags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    const value = (): string => {
      const next = rest[++i];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    if (flag === "--target") target = value();
    else if (flag === "--registry") registry = value();
    else if (flag === "--out") out = value();
    else clusterFlags.push(flag);
  }
  if (target !== "kubernetes" && target !== "swarm") throw new UsageError(`render needs --target kubernetes or --target swarm, got ${JSON.stringify(target ?? null)}`);
  if (registry !== undefined && target !== "kubernetes") throw new UsageError("--registry is for --target kubernetes (a swarm without a registry gets the images loaded onto each engine)");
  if (registry !== undefined) checkRegistry("--registry", registry);
  const { options, json, detach } = parseUp(clusterFlags, env);
  if (json || detach) throw new UsageError("render takes neither --json nor --detach");
  const targetOption = target === "kubernetes" ? { kubernetes: registry === undefined ? {} : { registry } } : { swarm: {} };
  return { command: "render", target, options: { ...options, target: targetOption }, out };
}

export const USAGE = `usage: m3agg <command> [flags]

commands:
  up             start a cluster and print its endpoints; stays in the foreground until Ctrl-C (then
                 removes it), or with --detach returns and leaves it running (reuse mode: the same
                 options attach to the same cluster)
  down           remove the cluster (--cluster ID, else the last one \`up\` started), or --all of them
  status         placement, health and leader of every shard set, and each instance's shard states
                 (INITIALIZING, AVAILABLE, LEAVING) with cutover and cutoff
  send           real metrics (--counter id=N, --gauge id=X, --timer id=X,Y,…; repeatable), routed to
                 every replica of their shard; without them, raw bytes from stdin to a node's raw
                 TCP port (--node, default the first), like nc
  connectivity   the seed's four checks: host to each node, container to each node, placement
                 endpoints, a framed metric send
  logs [name]    output of a container (node id, "etcd", "coordinator"; default all), each line
                 prefixed with its component; m3's JSON lines rendered as \`time level msg key=value\`
                 (--raw keeps them); --follow streams live until Ctrl-C; --since T, --tail N
  doctor         checks this machine: Docker endpoint and version (rootless, Podman, Docker
                 Desktop), host networking both ways, the cgroup freezer, the port pool, images per
                 m3 version, Node, Go, leftovers of dead runs; each failure says how to fix it;
                 --fix sweeps the leftovers; exit 1 when a check failed
${LOAD_USAGE}
${SCALE_USAGE}
  images         build the local images (or check they are up to date) with the package's
                 images/build.sh: --with-debug also the delve image, --m3-version V (repeatable) or --all-versions
                 the m3 versions; needs Go and Docker; progress on stderr, exit code of the build.
                 --save DIR / --load DIR: the image cache for CI instead of a build: docker save / load
                 of the selected images, one archive per image named by its input hash (a stale
                 archive is never loaded); --load loads what matches, a build then makes the rest.
                 --push REGISTRY: build (or check), then tag and push m3aggregator, m3coordinator and
                 etcd of the version(s) to REGISTRY (host[:port][/path]; loopback registries over plain
                 HTTP) and print each image by digest (REGISTRY/<name>@sha256:…), also recorded in
                 ~/.cache/m3agg/pushed.json [M3AGG_PUSH_RECORD]
  render         print the cluster as engine manifests, without starting anything:
                 --target kubernetes (YAML for kubectl apply; --registry R names the images under R,
                 by digest: asked of R's v2 API, else the push record; by tag, with a note, when neither knows it)
                 --target swarm (a docker stack file; --out DIR also writes the config files next to it
                 for \`docker stack deploy -c DIR/docker-stack.yml ID\`); up's cluster flags apply
                 (--nodes, --rf, --tls, --m3-version, --cluster-id, …)
  help           this text

flags of up (env var of the seed scripts in brackets):
  --nodes N          aggregator nodes, even, >= 2        [M3_AGGREGATOR_NODE_COUNT]     default 4
  --rf N             replication factor, divides nodes   [M3_AGGREGATOR_REPLICA_FACTOR] default 2
  --base-port N      seed port layout from N             [M3_AGGREGATOR_BASE_PORT]      default: free ports
  --shards N         placement shards                                                   default 64
  --backend B        blackhole | logging                                                default blackhole
  --log-level L      debug | info | warn | error                                        default info
  --election-ttl S   leader election TTL in seconds                                     default 10
  --cluster-id ID    label value for the containers (not with --detach)                 default random
  --host ADDR        address every listener binds and clients dial                      default 127.0.0.1
  --m3-version V     m3 release: v1.6.0 | v1.5.0                [M3AGG_M3_VERSION]             default v1.6.0
  --m3-source DIR    build and run m3 from your checkout at DIR  [M3_SOURCE_DIR]                default: release images
  --tls MODE         raw TCP TLS: permissive | enforced | off    [DISABLE_TLS=true: off]        default permissive (mTLS)
  --no-mtls          TLS clients need no client certificate
  --faults           every link through Toxiproxy (node.network faults, load --chaos cut/latency/…)
  --detach           start (or attach to) a kept cluster and return (swarm: leave the stack running)
  --target T         docker (default: this engine, loopback ports) | swarm (a stack on a Docker Swarm,
                     named network model, README "Beyond one machine") | kubernetes (a namespace of the
                     cluster of --kubeconfig F / --context C, images under --registry R; not with --detach);
                     swarm needs the engines:
  --engine HOST      a swarm engine's Docker host, repeat it, the manager first [M3AGG_SWARM_ENGINES=H,H]
  --relay SOCKET     per engine, engines in network namespaces of this machine   [M3AGG_SWARM_RELAYS=S,S]
  --sink-relay SOCKET  where those relays forward the sink's connections          [M3AGG_SWARM_SINK_RELAY]
  --swarm-engines ID the engines, relays and sink socket of \`scripts/swarm-engines.sh up ID\`
  --debug            run each node under headless delve           [M3_AGGREGATOR_DEBUG_MODE=true]
  --debug-base-port N  node i's delve on N+i-1                     [M3_AGGREGATOR_DEBUG_BASE_PORT] default: free ports
  --debug-wait       nodes wait for a debugger to continue them (default: run at once)
  before starting, up runs images/build.sh (FORCE_BUILD, BUILD_M3AGGREGATOR, BUILD_M3COORDINATOR:
  rebuild; M3AGG_SKIP_BUILD=1 or M3AGG_IMAGES=official: skip)
flags of the other commands:
  --cluster ID       the cluster to act on
  --node ID          (send) target node: instance id or 1-based number
  --all              (down) every fixture cluster on this Docker engine (or on the swarm given)
  --engine HOST, --relay SOCKET, --sink-relay SOCKET, --swarm-engines ID
                     (down, status) the swarm to look on, as for up --target swarm; without them
                     down and status find a swarm cluster through the state file up wrote
  --tail N           (logs) only the last N lines of each container
  --since T          (logs) lines since T: RFC 3339 time or a duration ago (30s, 5m, 2h)
  --follow, -f       (logs) keep streaming new lines until Ctrl-C
  --raw              (logs) m3's JSON lines as they are
  --fix              (doctor) sweep orphan containers, stale reservations, locks and cluster folders
common:
  --json             machine-readable output (one JSON document)

exit codes: 0 ok, 1 failure (cluster failed, a check failed), 2 usage error, 3 no such cluster`;

/** A REGISTRY value that breaks the rule is a usage error naming the value and the rule. */
function checkRegistry(flag: string, value: string): void {
  const problem = registryProblem(value);
  if (problem !== undefined) throw new UsageError(`${flag} ${JSON.stringify(value)}: ${problem}; a registry is ${REGISTRY_RULE}`);
}

/** `images`: only build.sh's flags, passed through as given (the script owns their meaning); --save/--load DIR: the image cache. */
function parseImages(rest: string[]): Command {
  const args: string[] = [];
  let save: string | undefined;
  let load: string | undefined;
  let push: string | undefined;
  const positional = eachFlag(rest, (flag, value) => {
    if (flag === "--with-debug") args.push(flag);
    else if (flag === "--m3-version") args.push(flag, value());
    else if (flag === "--all-versions") args.push(flag);
    else if (flag === "--save") save = value();
    else if (flag === "--load") load = value();
    else if (flag === "--push") push = value();
    else return false;
    return true;
  });
  if (positional.length > 0) throw new UsageError(`images takes no arguments, got ${JSON.stringify(positional[0])}`);
  if (save !== undefined && load !== undefined) throw new UsageError("--save and --load exclude each other (load, build, then save)");
  if (push !== undefined) {
    if (save !== undefined || load !== undefined) throw new UsageError("--push excludes --save and --load (load, build, save, then push in separate runs)");
    if (args.includes("--with-debug")) throw new UsageError("--push pushes the m3aggregator, m3coordinator and etcd images; the debug image is for one engine only (--with-debug)");
    checkRegistry("--push", push);
  }
  return { command: "images", args, ...(save === undefined ? {} : { save }), ...(load === undefined ? {} : { load }), ...(push === undefined ? {} : { push }) };
}

/** `doctor`: --fix, --json. */
function parseDoctor(rest: string[]): Command {
  let fix = false;
  let json = false;
  const positional = eachFlag(rest, (flag) => {
    if (flag === "--fix") fix = true;
    else if (flag === "--json") json = true;
    else return false;
    return true;
  });
  if (positional.length > 0) throw new UsageError(`doctor takes no arguments, got ${JSON.stringify(positional[0])}`);
  return { command: "doctor", fix, json };
}

/** --since: an RFC 3339 time, or a duration ago (`30s`, `5m`, `2h`); returned as Docker takes it (Unix seconds). */
export function parseSince(text: string, now = Date.now()): string {
  const duration = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (duration !== null) {
    const ms = Number(duration[1]) * ({ ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as Record<string, number>)[duration[2] as string]!;
    return String(Math.floor((now - ms) / 1000));
  }
  const at = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(at)) return String(Math.floor(at / 1000));
  throw new UsageError(`--since ${JSON.stringify(text)}: expected a duration (30s, 5m, 2h) or an RFC 3339 time (2026-12-01T13:00:00Z)`);
}

/** `counter:id=3`, `gauge:id=1.5`, `timer:id=1,2,3` → a metric for the ingest client (checked and converted here, once). */
export function parseMetricFlag(text: string): Metric {
  const match = /^(counter|gauge|timer):([^=]+)=(.+)$/.exec(text);
  if (match === null) throw new UsageError(`--${text.split(":")[0]} takes id=value, got ${JSON.stringify(text.slice(text.indexOf(":") + 1))}`);
  const [, kind, , value] = match as unknown as [string, string, string, string];
  const numbers = kind === "timer" ? value.split(",") : [value];
  for (const n of numbers) {
    if (!/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(n) || (kind === "counter" && !/^-?\d+$/.test(n))) {
      throw new UsageError(`--${kind} ${match[2]}=${value}: ${kind === "counter" ? "a counter takes a whole number" : "values must be numbers"}`);
    }
  }
  const id = match[2] as string;
  if (kind === "counter") return { type: "counter", id, value: BigInt(value) };
  if (kind === "gauge") return { type: "gauge", id, value: Number(value) };
  return { type: "timer", id, values: numbers.map(Number) };
}

/** Parses argv (without node and script) and the environment. Throws {@link UsageError}. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Command {
  const [command, ...args] = argv;
  let rest = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") return { command: "help" };
  if (command === "up") return parseUp(rest, env);
  if (command === "load") return parseLoadArgs(rest, env);
  if (command === "images") return parseImages(rest);
  if (command === "doctor") return parseDoctor(rest);
  if (command === "render") return parseRender(rest, env);
  if (command === "scale") return parseScaleArgs(rest);

  const target: Target = { clusterId: undefined };
  let json = false;
  let all = false;
  let node: string | undefined;
  let tail: number | undefined;
  let follow = false;
  let raw = false;
  let since: string | undefined;
  const metrics: string[] = [];
  const known = new Set(["down", "status", "send", "connectivity", "logs"]);
  if (command === "logs") rest = rest.map((a) => (a === "-f" ? "--follow" : a));
  if (!known.has(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const swarm = new SwarmFlags();
  const positional = eachFlag(rest, (flag, value) => {
    if ((command === "down" || command === "status") && swarm.take(flag, value)) return true;
    if (flag === "--cluster") target.clusterId = value();
    else if (flag === "--json") json = true;
    else if (flag === "--all" && command === "down") all = true;
    else if (flag === "--node" && command === "send") node = value();
    else if (["--counter", "--gauge", "--timer"].includes(flag) && command === "send") metrics.push(`${flag.slice(2)}:${value()}`);
    else if (flag === "--tail" && command === "logs") tail = toInteger(flag, value());
    else if ((flag === "--follow" || flag === "-f") && command === "logs") follow = true;
    else if (flag === "--raw" && command === "logs") raw = true;
    else if (flag === "--since" && command === "logs") since = parseSince(value());
    else return false;
    return true;
  });
  const noArguments = (): void => {
    if (positional.length > 0) throw new UsageError(`${command} takes no arguments, got ${JSON.stringify(positional[0])}`);
  };
  if (command === "down" || command === "status") target.swarm = swarm.resolve(env);
  switch (command) {
    case "down":
      noArguments();
      if (all && target.clusterId !== undefined) throw new UsageError("--all and --cluster exclude each other");
      return { command, target, all, json };
    case "status":
      noArguments();
      return { command, target, json };
    case "send":
      noArguments();
      if (node !== undefined && metrics.length > 0) throw new UsageError("--node is for raw bytes; metrics go to the replicas of their shard");
      return { command, target, json, node, metrics: metrics.map(parseMetricFlag) };
    case "connectivity":
      noArguments();
      return { command, target, json };
    default:
      if (positional.length > 1) throw new UsageError(`logs takes at most one container name, got ${positional.length}`);
      return { command: "logs", target, component: positional[0], tail, follow, raw, since };
  }
}
