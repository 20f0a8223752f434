/** One m3aggregator node: raw TCP ingest, HTTP API, Prometheus metrics, all on the cluster's host (127.0.0.1 by default). */
import type { StartedTestContainer } from "testcontainers";
import { AggregatorApi } from "../m3/aggregator-api";
import { HttpError, httpRequest } from "../util/http";
import { parsePrometheusText, PrometheusMetrics } from "../m3/prometheus";
import type { NodePlan } from "../plan/plan";
import type { NodePorts } from "../model/network";

/** What a node handle needs of its plan. */
export type NodeEndpoints = Pick<NodePlan, "id" | "ports" | "tcpEndpoint" | "httpUrl" | "metricsUrl">;
import { ControllableContainer } from "./controllable";
import { HostNetworkContainer } from "./host-network";
import type { LogBuffer } from "./log-buffer";
import { LoopbackHttpWaitStrategy, LoopbackTcpWaitStrategy } from "./loopback-http-wait";

export const AGGREGATOR_CONFIG_PATH = "/etc/m3aggregator/m3aggregator.yml";

/** How a node runs under delve (debug mode). */
export interface DebugRun {
  /** Stop before main until a debugger continues (else `--continue`). */
  waitForDebugger: boolean;
}

export class M3AggregatorContainer extends HostNetworkContainer {
  private readonly readiness: LoopbackHttpWaitStrategy | LoopbackTcpWaitStrategy;

  constructor(
    private readonly host: string,
    /** The plan of this node: id, ports, endpoints, image, config, labels. */
    private readonly node: NodePlan,
    debug?: DebugRun,
    /** Extra files for the container, e.g. the cluster's TLS certificates and keys. */
    files: Array<{ content: string; target: string; mode?: number }> = [],
  ) {
    const { id: instanceId, ports, image, labels, config: configYaml } = node;
    super(image, labels);
    if (debug === undefined) {
      this.readiness = aggregatorReadiness(host, ports.http);
      this.withEntrypoint(["/bin/m3aggregator"]).withCommand(["-f", AGGREGATOR_CONFIG_PATH]);
    } else {
      if (ports.debug === undefined) throw new Error(`${instanceId}: debug mode without a debug port`);
      // Waiting for the debugger: the program is stopped before main, only delve answers.
      this.readiness = debug.waitForDebugger ? new LoopbackTcpWaitStrategy(host, ports.debug) : aggregatorReadiness(host, ports.http);
      this.withEntrypoint(["/bin/dlv"])
        .withCommand(["exec", "/bin/m3aggregator", "--headless", `--listen=${host}:${ports.debug}`, "--api-version=2",
          "--accept-multiclient", ...(debug.waitForDebugger ? [] : ["--continue"]), "--", "-f", AGGREGATOR_CONFIG_PATH])
        .withAddedCapabilities("SYS_PTRACE"); // delve traces the aggregator
    }
    this
      // The config resolves the host id from this variable; it must equal the placement instance id.
      .withEnvironment({ M3AGGREGATOR_HOST_ID: instanceId })
      .withCopyContentToContainer([{ content: configYaml, target: AGGREGATOR_CONFIG_PATH }, ...files])
      .withWaitStrategy(this.readiness)
      .withStartupTimeout(60_000);
  }

  override async start(): Promise<StartedM3AggregatorNode> {
    return new StartedM3AggregatorNode(await super.start(), this.host, this.node, this.logBuffer, this.readiness);
  }
}

/** An aggregator is ready when /health answers (its servers open only after it read the placement). */
export function aggregatorReadiness(host: string, httpPort: number): LoopbackHttpWaitStrategy {
  return new LoopbackHttpWaitStrategy(`http://${host}:${httpPort}/health`);
}

/** A running aggregator node of the cluster. */
export class StartedM3AggregatorNode extends ControllableContainer {
  /** Client of this node's HTTP API (health, status, resign). */
  readonly api: AggregatorApi;

  constructor(
    started: StartedTestContainer,
    private readonly bindHost: string,
    /** The node's plan: its endpoints are computed there, once. */
    private readonly plan: NodeEndpoints,
    logBuffer: LogBuffer,
    readiness: LoopbackHttpWaitStrategy | LoopbackTcpWaitStrategy,
  ) {
    super(started, logBuffer, readiness, plan.id);
    this.id = plan.id;
    this.ports = plan.ports;
    this.api = new AggregatorApi(this.getHttpUrl());
  }

  /** Instance id = host id = placement instance id, e.g. `m3aggregator01`. */
  readonly id: string;
  private readonly ports: NodePorts;

  /** Address every listener of the node binds and clients dial (the cluster's `host`, 127.0.0.1 by default). */
  override getHost(): string {
    return this.bindHost;
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

  /** `<host>:<tcpPort>`: the node's endpoint in the placement. */
  getTcpEndpoint(): string {
    return this.plan.tcpEndpoint;
  }

  /** delve's port in debug mode (`dlv connect 127.0.0.1:<debugPort>`), else undefined. */
  getDebugPort(): number | undefined {
    return this.ports.debug;
  }

  /** `http://<host>:<httpPort>`. */
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
