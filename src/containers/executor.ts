/**
 * The one executor of the plan's container specs: turns a {@link ContainerSpec} into a
 * Testcontainers container and starts it. Nothing here knows etcd, the coordinator or an
 * aggregator: what differs between them is in their specs. A log buffer is attached before the
 * start, so no line is lost and a failed start can still show the container's last lines.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { sessionReaper } from "../docker/client";
import { isKept, ownedBySelf, ownerLabels } from "../docker/labels";
import type { ContainerSpec } from "../plan/spec";
import { LogBuffer } from "./log-buffer";
import { waitStrategyOf } from "./wait";

/** What a start waits for and reports besides readiness. */
export interface StartHooks {
  /**
   * The container is created and its files copied at once, but the engine starts it only once this
   * resolves; a rejection fails the start before the container runs (it stays created, for the teardown).
   */
  startAfter?: Promise<unknown>;
  /** Called once the engine started the container, before its wait strategy runs. */
  onStarted?: () => void;
  /**
   * The wait strategy begins once this resolves (the container runs meanwhile; its logs are
   * collected); a rejection fails the start.
   */
  waitAfter?: Promise<unknown>;
}

/** A Testcontainers container whose start can wait after its creation, and tells when the engine started it. */
class GatedContainer extends GenericContainer {
  hooks: StartHooks = {};

  protected override async containerCreated(_containerId: string): Promise<void> {
    await this.hooks.startAfter;
  }

  protected override async containerStarting(): Promise<void> {
    this.hooks.onStarted?.();
    await this.hooks.waitAfter;
  }
}

/** A spec ready to start: its log buffer exists (and collects) before the container does. */
export interface PreparedContainer {
  readonly spec: ContainerSpec;
  /** Output of the container from its first line on. */
  readonly logBuffer: LogBuffer;
  /**
   * Creates and starts the container; resolves once its wait strategy passed (within `timeoutMs`, at
   * most the spec's). `hooks`: a gate between creation and start, a call once it started, a gate
   * before the wait strategy.
   */
  start(timeoutMs?: number, hooks?: StartHooks): Promise<StartedTestContainer>;
  /**
   * True when Testcontainers will give the container its session label
   * (org.testcontainers.session-id), by which Ryuk removes a session's containers: false for a
   * kept (reuse) cluster, which outlives the process that made it.
   */
  readonly reapedWithSession: boolean;
}

/** The Testcontainers container of a spec, labelled with the spec's labels plus the owner labels. */
function containerOf(spec: ContainerSpec, logBuffer: LogBuffer, owner?: Record<string, string>): GatedContainer {
  // A container owned by another process (a node added to its cluster) must outlive this one: no session label.
  const reaped = !isKept(spec.labels) && (owner === undefined || ownedBySelf(owner));
  const container = new GatedContainer(spec.image)
    .withLabels({ ...spec.labels, ...ownerLabels(spec.labels, owner) })
    .withLogConsumer(logBuffer.consumer)
    .withEntrypoint(spec.entrypoint)
    .withCommand(spec.command)
    .withEnvironment(spec.env)
    .withWaitStrategy(waitStrategyOf(spec.wait))
    .withAutoCleanup(reaped); // Testcontainers adds the session label (Ryuk reaps by it) only with auto-cleanup
  switch (spec.network) {
    case "loopback": // host network: every listener on the plan's host address, nothing mapped, no bridge traffic
      container.withNetworkMode("host");
      break;
  }
  const contents = spec.files.flatMap((f) => ("content" in f ? [{ content: f.content, target: f.target, mode: f.mode }] : []));
  const hostFiles = spec.files.flatMap((f) => ("hostPath" in f ? [{ source: f.hostPath, target: f.target, mode: f.mode }] : []));
  if (contents.length > 0) container.withCopyContentToContainer(contents);
  if (hostFiles.length > 0) container.withCopyFilesToContainer(hostFiles);
  // "z": SELinux engines relabel the file so the container may read it (ignored elsewhere).
  if (spec.mounts.length > 0) container.withBindMounts(spec.mounts.map((m) => ({ source: m.hostPath, target: m.target, mode: "ro,z" as "ro" })));
  if (Object.keys(spec.tmpfs).length > 0) container.withTmpFs(spec.tmpfs);
  if (spec.capabilities.length > 0) container.withAddedCapabilities(...spec.capabilities);
  const hosts = Object.entries(spec.extraHosts ?? {});
  if (hosts.length > 0) container.withExtraHosts(hosts.map(([host, ipAddress]) => ({ host, ipAddress })));
  return container;
}

/** Writes the content of the spec's mounted files to their host paths (the cluster folder exists). */
function writeMountedFiles(spec: ContainerSpec): void {
  for (const mount of spec.mounts) {
    if (mount.content === undefined) continue;
    fs.mkdirSync(path.dirname(mount.hostPath), { recursive: true, mode: 0o700 });
    fs.writeFileSync(mount.hostPath, mount.content, { mode: 0o644 });
  }
}

/** Prepares a spec: the container is created when `start` is called (its mounted files are written first). */
export function prepareContainer(spec: ContainerSpec, options: { owner?: Record<string, string> } = {}): PreparedContainer {
  const logBuffer = new LogBuffer();
  const container = containerOf(spec, logBuffer, options.owner);
  const reapedWithSession = (container as unknown as { autoCleanup: boolean }).autoCleanup;
  return {
    spec,
    logBuffer,
    // The flag GenericContainer.start() reads to decide on the session label (protected in Testcontainers 12).
    reapedWithSession,
    start: async (timeoutMs = spec.startupTimeoutMs, hooks = {}) => {
      container.hooks = hooks;
      writeMountedFiles(spec);
      if (reapedWithSession) await sessionReaper(); // once per process, before parallel starts ask for it
      return await container.withStartupTimeout(Math.min(spec.startupTimeoutMs, timeoutMs)).start();
    },
  };
}
