/**
 * A container spec: everything that decides how one container of the plan runs, as plain data.
 * The plan makes one per component (plan.ts); containers/executor.ts runs any spec, the same way
 * for etcd, the coordinator, the aggregators and whatever a plan adds later (proxies in front of
 * links: one more spec each). Nothing about a component is decided after its spec.
 */
import type { ContainerComponent } from "../model/components";
import type { NetworkModel } from "../model/network";

/** A file put into the container before it starts: inline content, or a file of the host (read at start). */
export type FileSpec = { target: string; mode?: number } & ({ content: string } | { hostPath: string });

/**
 * A host file or folder bind-mounted read-only at `target`, so the start copies nothing. With
 * `content`, the executor writes it to `hostPath` before it creates the container; without, it is
 * there (the certificates' folder).
 */
export interface MountSpec {
  hostPath: string;
  target: string;
  content?: string;
}

/**
 * When a started container is ready (also after a restart): an HTTP GET answering 200 (and, when
 * given, a body holding `bodyIncludes`), or a TCP port accepting connections.
 */
export type WaitSpec =
  | { kind: "http"; url: string; bodyIncludes?: string }
  | { kind: "tcp"; host: string; port: number };

/** One container of the plan. */
export interface ContainerSpec {
  /** Names the container in logs and errors: `etcd`, `m3coordinator`, `m3aggregator01`, … */
  name: string;
  component: ContainerComponent;
  image: string;
  entrypoint: string[];
  command: string[];
  env: Record<string, string>;
  /** Files copied into the container before it starts (the named model's renderers ship them as configs). */
  files: FileSpec[];
  /** Files bind-mounted from the host (the loopback model: the engine runs on this machine). */
  mounts: MountSpec[];
  /** tmpfs mounts: container path → mount options. */
  tmpfs: Record<string, string>;
  /** Linux capabilities added to the container (e.g. SYS_PTRACE for delve). */
  capabilities: string[];
  wait: WaitSpec;
  /** The longest the container may take to be ready (the start's deadline may cut it shorter). */
  startupTimeoutMs: number;
  /** Identity labels (cluster, component, node, ports, plan); owner labels are added when it is created. */
  labels: Record<string, string>;
  /** How it reaches the others: see {@link NetworkModel}. */
  network: NetworkModel;
  /** /etc/hosts entries (name → address), e.g. the sink's name → a node's own flush proxy (faults: true). */
  extraHosts?: Record<string, string>;
}
