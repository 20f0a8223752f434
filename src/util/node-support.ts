/**
 * Which Node versions the package runs on, as pure functions (util/node-version.ts throws at
 * import on an older Node; the CLI prints the same sentence as one line instead).
 */
export const MIN_NODE = { major: 22, minor: 22 } as const;

/** True when `version` ("22.22.0", "v24.1.0") is at least {@link MIN_NODE}. */
export function isSupportedNode(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  return major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor);
}

/** The sentence for an unsupported Node, or undefined when `version` is supported. */
export function unsupportedNodeMessage(version: string): string | undefined {
  if (isSupportedNode(version)) return undefined;
  return `m3-aggregator-testcontainers needs Node >= ${MIN_NODE.major}.${MIN_NODE.minor} ` +
    `(Testcontainers 12.2 and undici 8 do not run on older Node); this is Node ${version}. ` +
    "Node 20 reached end of life in April 2026: use Node 22 or 24.";
}
