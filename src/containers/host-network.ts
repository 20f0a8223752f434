/**
 * What every container of the fixture shares: host network mode (all
 * listeners on 127.0.0.1, no port mapping, no bridge traffic), our labels, and
 * a log buffer attached before start so no line is lost.
 */
import { GenericContainer } from "testcontainers";
import { type ClusterLabels, type Component, containerLabels } from "../labels";
import { LogBuffer } from "./log-buffer";

export abstract class HostNetworkContainer extends GenericContainer {
  /** Output of the container from its first line on. */
  readonly logBuffer = new LogBuffer();

  protected constructor(image: string, cluster: ClusterLabels, component: Component, ports: object, node?: string) {
    super(image);
    this.withNetworkMode("host")
      .withLabels(containerLabels(cluster, component, ports, node))
      .withLogConsumer(this.logBuffer.consumer);
  }
}
