/**
 * The m3 releases the fixture supports and every fact that differs between them: the etcd paired
 * with each, raw TCP TLS, the wire fields the encoder writes, the config keys the renderer writes,
 * how to recognise a source tree of it, and the image tags. All of it comes from one file,
 * images/images.json (images/build.sh reads it too): a version added there is encoded, rendered,
 * validated and built without a code edit. README "m3 versions" says how to add one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Component } from "./components";

/** An m3 release the fixture supports: a key of `m3Versions` in images/images.json ("v1.6.0", "v1.5.0"). */
export type M3Version = string;

/** One version's entry of images/images.json. */
export interface VersionEntry {
  /** etcd release paired with this m3 (its client's version line). */
  etcd: string;
  /** Extra Go ldflags its build needs. */
  ldflags: string;
  /** Raw TCP TLS (rawtcp.tls, the client's connection.tls): added to m3 in October 2024. */
  tls: boolean;
  /** Wire fields: `routingPolicy` = the empty routing_policy fields (PipelineMetadata 6, TimedMetadata 3), m3 v1.6.0 on. */
  wire: { routingPolicy: boolean };
  /**
   * Config keys the version's strict loader knows (an older loader rejects unknown keys):
   * `etcdTimeouts` = etcd `autoSyncInterval` and `dialTimeout`, `clientReadTimeout` =
   * aggregator.client.connection.readTimeout.
   */
  config: { etcdTimeouts: boolean; clientReadTimeout: boolean };
  /** A file (relative to an m3 checkout) that exists from this version on: how a source tree is matched to a version. */
  sourceMarker?: string;
  /** Published images of this version, where any exist. */
  official: Partial<Record<Component, string>>;
}

/** images/images.json. */
export interface VersionTable {
  defaultM3Version: M3Version;
  delveVersion: string;
  toxiproxyVersion: string;
  /** Newest first. */
  m3Versions: Record<M3Version, VersionEntry>;
}

/** images/images.json at the package root (same relative path from src/model and dist/model). */
export const IMAGES_FILE = path.resolve(__dirname, "../../images/images.json");

let table: VersionTable | undefined;

/** The version table, read from {@link IMAGES_FILE} on first use. */
export function versionTable(): VersionTable {
  table ??= JSON.parse(fs.readFileSync(IMAGES_FILE, "utf8")) as VersionTable;
  return table;
}

/**
 * Replaces the version table (tests: a table with a version added) and returns a function that
 * restores the previous one. Encoders already made for a version keep what they were made with.
 */
export function useVersionTable(replacement: VersionTable): () => void {
  const previous = table;
  table = replacement;
  return () => {
    table = previous;
  };
}

/** Supported m3 versions, newest first. */
export function supportedM3Versions(): M3Version[] {
  return Object.keys(versionTable().m3Versions);
}

/** Tag of the Toxiproxy image `npm run images` builds (faults: true clusters). */
export function toxiproxyImageTag(): string {
  return `m3agg-local/toxiproxy:${versionTable().toxiproxyVersion}`;
}

/** The version a cluster runs when none is asked for. */
export function defaultM3Version(): M3Version {
  return versionTable().defaultM3Version;
}

/** Everything version-specific the rest of the package needs. */
export interface VersionProfile {
  version: M3Version;
  /** etcd release paired with this m3 (its client's version line). */
  etcdVersion: string;
  /** Raw TCP TLS (rawtcp.tls, the client's connection.tls): added to m3 in October 2024. */
  supportsTls: boolean;
  /** Wire fields the encoder writes. */
  wire: VersionEntry["wire"];
  /** Config keys the renderer may write. */
  config: VersionEntry["config"];
  /** Tags `npm run images` builds. */
  localImages: { m3aggregator: string; m3coordinator: string; etcd: string; m3aggregatorDebug: string; loadgen: string };
  /** Published images of this version, where any exist (v1.6.0 has none). */
  officialImages: VersionEntry["official"];
}

export function versionProfile(version: M3Version): VersionProfile {
  const entry = versionTable().m3Versions[version];
  if (entry === undefined) throw new Error(`m3 version ${version} is not supported (supported: ${supportedM3Versions().join(", ")})`);
  return {
    version,
    etcdVersion: entry.etcd,
    supportsTls: entry.tls,
    wire: entry.wire,
    config: entry.config,
    localImages: {
      m3aggregator: `m3agg-local/m3aggregator:${version}`,
      m3coordinator: `m3agg-local/m3coordinator:${version}`,
      etcd: `m3agg-local/etcd:${entry.etcd}`,
      m3aggregatorDebug: `m3agg-local/m3aggregator-debug:${version}`,
      // The load generator of `m3agg load --target kubernetes` (built for versions with images/go/loadgen-<version>).
      loadgen: `m3agg-local/loadgen:${version}`,
    },
    officialImages: entry.official,
  };
}

/**
 * The version a local m3 checkout behaves like: the newest version whose `sourceMarker` file the
 * tree has (v1.6.0: src/x/server/secured_conn.go, raw TCP TLS, October 2024), else the oldest.
 */
export function profileOfSource(sourceDir: string): M3Version {
  const versions = Object.entries(versionTable().m3Versions);
  const matched = versions.find(([, entry]) => entry.sourceMarker !== undefined && fs.existsSync(path.join(sourceDir, entry.sourceMarker)));
  return (matched ?? versions[versions.length - 1] ?? [defaultM3Version()])[0];
}
