/**
 * What every container of the fixture shares: host network mode (all
 * listeners on 127.0.0.1, no port mapping, no bridge traffic), our labels, and
 * a log buffer attached before start so no line is lost.
 */
import { GenericContainer } from "testcontainers";
import { isKept, ownerLabels } from "../docker/labels";
import { LogBuffer } from "./log-buffer";

export abstract class HostNetworkContainer extends GenericContainer {
  /** Output of the container from its first line on. */
  readonly logBuffer = new LogBuffer();

  /** `labels`: the plan's labels of this container; the owner labels are added here. */
  protected constructor(image: string, labels: Record<string, string>) {
    super(image);
    this.withNetworkMode("host")
      .withLabels({ ...labels, ...ownerLabels(labels) })
      .withLogConsumer(this.logBuffer.consumer)
      // A kept (reuse) cluster outlives its process: Testcontainers must not give it the session
      // label (org.testcontainers.session-id) by which Ryuk removes a session's containers.
      .withAutoCleanup(!isKept(labels));
  }

  /** True when Testcontainers will label the container for Ryuk (its session-id label). */
  get reapedWithSession(): boolean {
    return this.autoCleanup;
  }
}
