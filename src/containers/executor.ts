/**
 * The one executor of the plan's container specs: turns a {@link ContainerSpec} into a
 * Testcontainers container and starts it. Nothing here knows etcd, the coordinator or an
 * aggregator: what differs between them is in their specs. A log buffer is attached before the
 * start, so no line is lost and a failed start can still show the container's last lines.
 */
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { ownerLabels } from "../docker/labels";
import type { ContainerSpec } from "../plan/spec";
import { LogBuffer } from "./log-buffer";
import { waitStrategyOf } from "./wait";

/** A spec ready to start: its log buffer exists (and collects) before the container does. */
export interface PreparedContainer {
  readonly spec: ContainerSpec;
  /** Output of the container from its first line on. */
  readonly logBuffer: LogBuffer;
  /** Creates and starts the container; resolves once its wait strategy passed (within `timeoutMs`, at most the spec's). */
  start(timeoutMs?: number): Promise<StartedTestContainer>;
}

/** The Testcontainers container of a spec, labelled with the spec's labels plus the owner labels. */
function containerOf(spec: ContainerSpec, logBuffer: LogBuffer): GenericContainer {
  const container = new GenericContainer(spec.image)
    .withLabels({ ...spec.labels, ...ownerLabels(spec.labels) })
    .withLogConsumer(logBuffer.consumer)
    .withEntrypoint(spec.entrypoint)
    .withCommand(spec.command)
    .withEnvironment(spec.env)
    .withWaitStrategy(waitStrategyOf(spec.wait));
  switch (spec.network) {
    case "loopback": // host network: every listener on the plan's host address, nothing mapped, no bridge traffic
      container.withNetworkMode("host");
      break;
  }
  const contents = spec.files.flatMap((f) => ("content" in f ? [{ content: f.content, target: f.target, mode: f.mode }] : []));
  const hostFiles = spec.files.flatMap((f) => ("hostPath" in f ? [{ source: f.hostPath, target: f.target, mode: f.mode }] : []));
  if (contents.length > 0) container.withCopyContentToContainer(contents);
  if (hostFiles.length > 0) container.withCopyFilesToContainer(hostFiles);
  if (Object.keys(spec.tmpfs).length > 0) container.withTmpFs(spec.tmpfs);
  if (spec.capabilities.length > 0) container.withAddedCapabilities(...spec.capabilities);
  return container;
}

/** Prepares a spec: the container is created when `start` is called. */
export function prepareContainer(spec: ContainerSpec): PreparedContainer {
  const logBuffer = new LogBuffer();
  const container = containerOf(spec, logBuffer);
  return {
    spec,
    logBuffer,
    start: (timeoutMs = spec.startupTimeoutMs) => container.withStartupTimeout(Math.min(spec.startupTimeoutMs, timeoutMs)).start(),
  };
}
