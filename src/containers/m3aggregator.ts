/** The m3aggregator node handle: raw TCP ingest, HTTP API, Prometheus metrics, all on the cluster's host (127.0.0.1 by default). */
import type { StartedTestContainer } from "testcontainers";
import { AggregatorApi } from "../m3/aggregator-api";
import { HttpError, httpRequest } from "../util/http";
import { parsePrometheusText, PrometheusMetrics } from "../m3/prometheus";
import type { NodePlan } from "../plan/plan";
import { ControllableContainer } from "./controllable";
import type { LogBuffer } from "./log-buffer";
import { FaultsDisabledError, type NodeNetwork } from "../faults/network";

/** A running aggregator node of the cluster. */
export class StartedM3AggregatorNode extends ControllableContainer {
  /** Client of this node's HTTP API (health, status, resign). */
  readonly api: AggregatorApi;

  constructor(
    started: StartedTestContainer,
    logBuffer: LogBuffer,
    /** The node's plan: its endpoints are computed there, once. */
    private readonly plan: NodePlan,
  ) {
    super(started, logBuffer, plan.container);
    this.id = plan.id;
    this.api = new AggregatorApi(this.getHttpUrl());
  }

  /** Instance id = host id = placement instance id, e.g. `m3aggregator01`. */
  readonly id: string;

  private get ports(): NodePlan["ports"] {
    return this.plan.ports;
  }

  /** Address every listener of the node binds and clients dial (the cluster's `host`, 127.0.0.1 by default). */
  override getHost(): string {
    return this.plan.host;
  }

  /** Raw TCP ingest port. */
  getTcpPort(): number {
    return this.ports.tcp;
  }

  /** HTTP API port (/health, /status, /resign). */
  getHttpPort(): number {
    return this.ports.http;
  }

  /** Prometheus metrics port (`/metrics`). */
  getMetricsPort(): number {
    return this.ports.metrics;
  }

  /** `<host>:<tcpPort>`: the node's own raw TCP listener (its placement endpoint unless faults are on). */
  getTcpEndpoint(): string {
    return this.plan.tcpEndpoint;
  }

  /** The node's endpoint in the placement, which clients and peers dial: with `faults: true` its ingest proxy. */
  getPlacementEndpoint(): string {
    return this.plan.placementEndpoint;
  }

  private linkFaults: NodeNetwork | undefined;

  /**
   * Faults on this node's links (clusters started with `faults: true`): `cut(link | "all")`,
   * `reset(link)`, `latency(link, { ms, jitterMs })`, `bandwidth(link, kbPerSecond)`, `heal(link?)`;
   * links are "etcd", "ingest" and "flush". On other clusters every method throws naming the option.
   */
  get network(): NodeNetwork {
    if (this.linkFaults === undefined) throw new FaultsDisabledError(`${this.id}.network`, "of this node");
    return this.linkFaults;
  }

  /** @internal The cluster hands each node its link faults once. */
  setNetwork(network: NodeNetwork): void {
    this.linkFaults = network;
  }

  /** delve's port in debug mode (`dlv connect 127.0.0.1:<debugPort>`), else undefined. */
  getDebugPort(): number | undefined {
    return this.ports.debug;
  }

  /** `http://<host>:<httpPort>`. */
  /** Where this process dials the raw TCP endpoint: on the loopback network, the placement's endpoint itself. */
  getDialAddress(): string {
    return this.getTcpEndpoint();
  }

  getHttpUrl(): string {
    return this.plan.httpUrl;
  }

  /** `http://<host>:<metricsPort>/metrics`. */
  getMetricsUrl(): string {
    return this.plan.metricsUrl;
  }

  /** Asks this node, if it leads, to hand leadership to another replica (POST /resign); resolves once it is a follower. */
  resign(timeoutMs?: number): Promise<void> {
    return this.api.resign(timeoutMs);
  }

  /** This node's election state and canLead (GET /status). */
  status(): ReturnType<AggregatorApi["status"]> {
    return this.api.status();
  }

  /**
   * The node's own Prometheus metrics (GET {@link getMetricsUrl}), parsed: e.g.
   * `(await node.metrics()).counter("m3aggregator_aggregator_addUntimed_success")`.
   */
  async metrics(timeoutMs = 10_000): Promise<PrometheusMetrics> {
    const url = this.getMetricsUrl();
    const response = await httpRequest("GET", url, { timeoutMs });
    if (response.status !== 200) throw new HttpError("GET", url, response.status, response.text);
    return new PrometheusMetrics(parsePrometheusText(response.text));
  }
}
