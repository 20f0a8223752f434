/**
 * The m3 releases the fixture supports and what differs between them: the
 * etcd version paired with each, whether raw TCP TLS exists, and the image
 * tags. images/images.json is the single list (images/build.sh reads it too);
 * README "m3 versions" says how to add one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Component } from "./components";

/** An m3 release the fixture builds images for and renders configs for. */
export type M3Version = "v1.6.0" | "v1.5.0";

interface VersionEntry {
  etcd: string;
  ldflags: string;
  tls: boolean;
  official: Partial<Record<Component, string>>;
}

interface ImagesFile {
  defaultM3Version: M3Version;
  delveVersion: string;
  m3Versions: Record<M3Version, VersionEntry>;
}

/** images/images.json at the package root (same relative path from src/m3 and dist/m3). */
export const IMAGES_FILE = path.resolve(__dirname, "../../images/images.json");

let imagesFile: ImagesFile | undefined;

function file(): ImagesFile {
  imagesFile ??= JSON.parse(fs.readFileSync(IMAGES_FILE, "utf8")) as ImagesFile;
  return imagesFile;
}

/** Supported m3 versions, newest first. */
export function supportedM3Versions(): M3Version[] {
  return Object.keys(file().m3Versions) as M3Version[];
}

/** The version a cluster runs when none is asked for. */
export function defaultM3Version(): M3Version {
  return file().defaultM3Version;
}

/** Everything version-specific the rest of the package needs. */
export interface VersionProfile {
  version: M3Version;
  /** etcd release paired with this m3 (its client's version line). */
  etcdVersion: string;
  /** Raw TCP TLS (rawtcp.tls, the client's connection.tls): added to m3 in October 2024. */
  supportsTls: boolean;
  /**
   * v1.6.0 writes routing_policy on the wire and reads new config keys; v1.5.0's strict config
   * loader rejects those keys, so the renderer asks this.
   */
  newerConfigSchema: boolean;
  /** Tags `npm run images` builds. */
  localImages: { m3aggregator: string; m3coordinator: string; etcd: string; m3aggregatorDebug: string };
  /** Published images of this version, where any exist (v1.6.0 has none). */
  officialImages: VersionEntry["official"];
}

export function versionProfile(version: M3Version): VersionProfile {
  const entry = file().m3Versions[version];
  if (entry === undefined) throw new Error(`m3 version ${version} is not supported (supported: ${supportedM3Versions().join(", ")})`);
  return {
    version,
    etcdVersion: entry.etcd,
    supportsTls: entry.tls,
    newerConfigSchema: version !== "v1.5.0",
    localImages: {
      m3aggregator: `m3agg-local/m3aggregator:${version}`,
      m3coordinator: `m3agg-local/m3coordinator:${version}`,
      etcd: `m3agg-local/etcd:${entry.etcd}`,
      m3aggregatorDebug: `m3agg-local/m3aggregator-debug:${version}`,
    },
    officialImages: entry.official,
  };
}

/**
 * The version profile a local m3 checkout behaves like: a tree with raw TCP TLS
 * (src/x/server/secured_conn.go, October 2024) renders like v1.6.0, an older one like v1.5.0.
 */
export function profileOfSource(sourceDir: string): M3Version {
  return fs.existsSync(path.join(sourceDir, "src", "x", "server", "secured_conn.go")) ? "v1.6.0" : "v1.5.0";
}
