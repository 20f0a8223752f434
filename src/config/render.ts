/**
 * Renders m3aggregator and m3coordinator configs from the YAML templates in
 * fixtures/. Values are set on the parsed document (never by string
 * substitution), so the template's comments and layout survive and a user can
 * read the rendered file next to the template.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Document, isMap, parseDocument } from "yaml";
import type { FlushBackend, LogLevel } from "../options";
import { LOOPBACK, type NodePorts } from "../ports";

/** fixtures/ at the package root (same relative path from src/ and dist/). */
export const FIXTURES_DIR = path.resolve(__dirname, "../../fixtures");

export interface AggregatorConfigInput {
  /** Address every listener binds (default 127.0.0.1). */
  host?: string;
  ports: NodePorts;
  etcdClientPort: number;
  electionTtlSeconds: number;
  backend: FlushBackend;
  /** m3msg topic of the sink backend (default `aggregated_metrics`). */
  topic?: string;
  logLevel: LogLevel;
  overrides?: Record<string, unknown>;
}

export interface CoordinatorConfigInput {
  host?: string;
  port: number;
  metricsPort: number;
  etcdClientPort: number;
  logLevel: LogLevel;
  overrides?: Record<string, unknown>;
}

const templateCache = new Map<string, string>();

function loadTemplate(name: string): Document {
  let text = templateCache.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(FIXTURES_DIR, name), "utf8");
    templateCache.set(name, text);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new Error(`fixtures/${name} is not valid YAML: ${doc.errors[0]?.message}`);
  }
  return doc;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep-merges plain objects into the document; arrays and scalars replace. */
export function mergeInto(doc: Document, overrides: Record<string, unknown>, at: string[] = []): void {
  for (const [key, value] of Object.entries(overrides)) {
    const keyPath = [...at, key];
    if (isPlainObject(value) && isMap(doc.getIn(keyPath))) {
      mergeInto(doc, value, keyPath);
    } else {
      doc.setIn(keyPath, value);
    }
  }
}

const addressOn = (host: string | undefined) => (port: number): string => `${host ?? LOOPBACK}:${port}`;

/** Topic the aggregators' m3msg flush handler writes to (backend "sink"). */
export const SINK_TOPIC = "aggregated_metrics";

function flushHandler(backend: FlushBackend, topic = SINK_TOPIC): unknown {
  switch (backend) {
    case "sink": {
      const handler = loadTemplate("m3msg-flush-handler.yml");
      handler.setIn(["dynamicBackend", "producer", "writer", "topicName"], topic);
      return handler.contents;
    }
    case "blackhole":
      return { staticBackend: { type: "blackhole" } };
    case "logging":
      // One info log line per flushed datapoint: output visible without any consumer.
      return { staticBackend: { type: "logging" } };
  }
}

/** The m3aggregator YAML of one node. */
export function renderAggregatorConfig(input: AggregatorConfigInput): string {
  const doc = loadTemplate("m3aggregator.yml");
  const address = addressOn(input.host);
  doc.setIn(["logging", "level"], input.logLevel);
  doc.setIn(["metrics", "prometheus", "listenAddress"], address(input.ports.metrics));
  doc.setIn(["http", "listenAddress"], address(input.ports.http));
  doc.setIn(["rawtcp", "listenAddress"], address(input.ports.tcp));
  doc.setIn(["kvClient", "etcd", "etcdClusters", 0, "endpoints"], [address(input.etcdClientPort)]);
  doc.setIn(["aggregator", "electionManager", "election", "ttlSeconds"], input.electionTtlSeconds);
  doc.setIn(["aggregator", "flush", "handlers"], [flushHandler(input.backend, input.topic)]);
  mergeInto(doc, input.overrides ?? {});
  return doc.toString();
}

/** The m3coordinator YAML (admin API only). */
export function renderCoordinatorConfig(input: CoordinatorConfigInput): string {
  const doc = loadTemplate("m3coordinator.yml");
  const address = addressOn(input.host);
  doc.setIn(["listenAddress"], address(input.port));
  doc.setIn(["logging", "level"], input.logLevel);
  doc.setIn(["metrics", "prometheus", "listenAddress"], address(input.metricsPort));
  doc.setIn(["clusterManagement", "etcd", "etcdClusters", 0, "endpoints"], [address(input.etcdClientPort)]);
  mergeInto(doc, input.overrides ?? {});
  return doc.toString();
}
