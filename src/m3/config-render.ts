/**
 * Renders m3aggregator and m3coordinator configs from the YAML templates in
 * fixtures/. Values are set on the parsed document (never by string
 * substitution), so the template's comments and layout survive and a user can
 * read the rendered file next to the template.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Document, isMap, parseDocument } from "yaml";
import { defaultM3Version, type M3Version, type VersionProfile, versionProfile } from "../model/versions";
import type { FlushBackend, LogLevel } from "../model/options";
import { LOOPBACK, type NodePorts } from "../model/network";
import { CONTAINER_TLS_FILES, type TlsSettings } from "../model/tls";

/** fixtures/ at the package root (same relative path from src/ and dist/). */
export const FIXTURES_DIR = path.resolve(__dirname, "../../fixtures");

export interface AggregatorConfigInput {
  /** Address every listener binds (default 127.0.0.1). */
  host?: string;
  ports: NodePorts;
  etcdClientPort: number;
  /** `host:port` the node dials for etcd instead of `<host>:<etcdClientPort>`: its fault proxy, or (named network model) etcd's DNS name. */
  etcdEndpoint?: string;
  /** The name the TLS clients verify in the server certificate (default `host`). */
  tlsServerName?: string;
  electionTtlSeconds: number;
  backend: FlushBackend;
  /** m3msg topic of the sink backend (default `aggregated_metrics`). */
  topic?: string;
  logLevel: LogLevel;
  /** The m3 release the config is for (default: the default version). */
  m3Version?: M3Version;
  /** Raw TCP TLS of the cluster, or undefined when off. */
  tls?: TlsSettings;
  overrides?: Record<string, unknown>;
}

export interface CoordinatorConfigInput {
  host?: string;
  port: number;
  metricsPort: number;
  etcdClientPort: number;
  /** `host:port` the coordinator dials for etcd instead of `<host>:<etcdClientPort>`: its fault proxy, or (named network model) etcd's DNS name. */
  etcdEndpoint?: string;
  logLevel: LogLevel;
  m3Version?: M3Version;
  overrides?: Record<string, unknown>;
}

/** Each template parsed once: a render edits a clone (parsing the commented template took ~10 ms a node, on the start's critical path). */
const templateCache = new Map<string, Document>();

function loadTemplate(name: string): Document {
  let doc = templateCache.get(name);
  if (doc === undefined) {
    doc = parseDocument(fs.readFileSync(path.join(FIXTURES_DIR, name), "utf8"));
    if (doc.errors.length > 0) {
      throw new Error(`fixtures/${name} is not valid YAML: ${doc.errors[0]?.message}`);
    }
    templateCache.set(name, doc);
  }
  return doc.clone();
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

/**
 * etcd keys of versions whose profile has `config.etcdTimeouts` (m3 v1.6.0 on; v1.5.0's strict loader rejects unknown keys).
 * In v1.6.0 an omitted etcd `autoSyncInterval` means "every minute" (in v1.5.0 it meant "off"), so it
 * is written out: after a minute m3's etcd clients replace their endpoints with the address etcd
 * advertises, which is the same loopback address here. The timeouts are m3's defaults, written
 * out so the rendered file shows them.
 */
function applyVersionSchema(doc: Document, etcdPath: Array<string | number>, profile: VersionProfile, proxied: boolean): void {
  if (!profile.config.etcdTimeouts) return;
  // Through a fault proxy, autosync would swap the proxy for the address etcd advertises (its own):
  // a minute in, the etcd link would bypass the proxy and cuts would no longer apply. -1s = off.
  doc.setIn([...etcdPath, "autoSyncInterval"], proxied ? "-1s" : "1m");
  doc.setIn([...etcdPath, "dialTimeout"], "15s");
}

/**
 * rawtcp.tls (server side) and aggregator.client.connection.tls (aggregators forwarding to each
 * other). Unlike m3's dev environment (`insecureSkipVerify: true`), the client verifies the server:
 * `serverName` is the SAN of the cluster's server certificate.
 */
function applyTls(doc: Document, tls: TlsSettings | undefined, serverName: string): void {
  if (tls === undefined) return;
  doc.setIn(["rawtcp", "tls"], {
    mode: tls.mode,
    mTLSEnabled: tls.mutualTls,
    certFile: CONTAINER_TLS_FILES.serverCert,
    keyFile: CONTAINER_TLS_FILES.serverKey,
    clientCAFile: CONTAINER_TLS_FILES.ca,
  });
  doc.setIn(["aggregator", "client", "connection", "tls"], {
    enabled: true,
    insecureSkipVerify: false,
    tlsHandshakeOnConnect: true,
    serverName,
    caFile: CONTAINER_TLS_FILES.ca,
    certFile: CONTAINER_TLS_FILES.clientCert,
    keyFile: CONTAINER_TLS_FILES.clientKey,
  });
}

/** The m3aggregator YAML of one node. */
export function renderAggregatorConfig(input: AggregatorConfigInput): string {
  const doc = loadTemplate("m3aggregator.yml");
  const address = addressOn(input.host);
  doc.setIn(["logging", "level"], input.logLevel);
  doc.setIn(["metrics", "prometheus", "listenAddress"], address(input.ports.metrics));
  doc.setIn(["http", "listenAddress"], address(input.ports.http));
  doc.setIn(["rawtcp", "listenAddress"], address(input.ports.tcp));
  doc.setIn(["kvClient", "etcd", "etcdClusters", 0, "endpoints"], [input.etcdEndpoint ?? address(input.etcdClientPort)]);
  doc.setIn(["aggregator", "electionManager", "election", "ttlSeconds"], input.electionTtlSeconds);
  doc.setIn(["aggregator", "flush", "handlers"], [flushHandler(input.backend, input.topic)]);
  const profile = versionProfile(input.m3Version ?? defaultM3Version());
  applyVersionSchema(doc, ["kvClient", "etcd", "etcdClusters", 0], profile, input.etcdEndpoint !== undefined);
  if (profile.config.clientReadTimeout) {
    doc.setIn(["aggregator", "client", "connection", "readTimeout"], "15s");
  }
  if (input.tls !== undefined && !profile.supportsTls) {
    throw new Error(`m3 ${profile.version} has no raw TCP TLS`);
  }
  applyTls(doc, input.tls, input.tlsServerName ?? input.host ?? LOOPBACK);
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
  doc.setIn(["clusterManagement", "etcd", "etcdClusters", 0, "endpoints"], [input.etcdEndpoint ?? address(input.etcdClientPort)]);
  applyVersionSchema(doc, ["clusterManagement", "etcd", "etcdClusters", 0], versionProfile(input.m3Version ?? defaultM3Version()), input.etcdEndpoint !== undefined);
  mergeInto(doc, input.overrides ?? {});
  return doc.toString();
}
