/**
 * Fails at load, naming the versions, on a Node older than this package runs on:
 * Testcontainers 12.2 needs Node >= 22.22, and undici 8 (its HTTP client and ours)
 * crashes at import on Node 20 with an unhelpful TypeError. Imported first by the
 * package entry points.
 */
export const MIN_NODE = { major: 22, minor: 22 } as const;

/** True when `version` ("22.22.0", "v24.1.0") is at least {@link MIN_NODE}. */
export function isSupportedNode(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  return major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor);
}

if (!isSupportedNode(process.versions.node)) {
  throw new Error(`m3-aggregator-testcontainers needs Node >= ${MIN_NODE.major}.${MIN_NODE.minor} ` +
    `(Testcontainers 12.2 and undici 8 do not run on older Node); this is Node ${process.versions.node}. ` +
    "Node 20 reached end of life in April 2026: use Node 22 or 24.");
}
