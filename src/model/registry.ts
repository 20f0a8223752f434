/**
 * Registries and image references: the rule a REGISTRY value (`m3agg images --push REGISTRY`,
 * `render --registry`) must follow, the names the images get under it, and references by digest
 * (`R/m3agg-local/m3aggregator@sha256:…`), which the Kubernetes manifests use once the images
 * are pushed. Pure: no engine, no network.
 */

/** The rule, as errors state it. */
export const REGISTRY_RULE = "host[:port][/path] without a scheme, tag or digest, the host a DNS name with a dot, localhost, or an IP address (e.g. 127.0.0.1:5000, registry.example/team)";

// The grammar of a reference's domain and path (github.com/distribution/reference, regexp.go).
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const REGISTRY = new RegExp(`^(${HOST})(?::([0-9]+))?((?:/${PATH_COMPONENT})*)$`);

/** A content digest as registries name manifests. */
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A REGISTRY value split into what clients need. */
export interface Registry {
  /** As given, without trailing slashes: the prefix of every pushed image name. */
  prefix: string;
  /** `host[:port]`: where the registry's HTTP API answers. */
  authority: string;
  /** The path under the host (`team/ci`), or "" at the root. */
  path: string;
  /** True for localhost and 127.0.0.0/8 and ::1, which Docker reaches over plain HTTP. */
  loopback: boolean;
}

/** Why `value` is not a registry, or undefined when it is one. */
export function registryProblem(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return "it has a scheme (Docker picks http or https itself)";
  const trimmed = value.replace(/\/+$/, "");
  if (trimmed === "") return "it is empty";
  const underHost = trimmed.includes("/") ? trimmed.slice(trimmed.indexOf("/")) : "";
  if (trimmed.includes("@") || underHost.includes(":")) return "it has a tag or a digest (the images keep their own)";
  const match = REGISTRY.exec(trimmed);
  if (match === null) return "it does not follow the grammar of a registry host and path (lowercase path components)";
  const [, host, port] = match as unknown as [string, string, string | undefined];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `port ${port} is not 1-65535`;
  // Without a dot, a port or "localhost", Docker reads the first component as a Docker Hub namespace.
  if (!host.includes(".") && !host.startsWith("[") && port === undefined && host !== "localhost") {
    return `"${host}" would be read as a Docker Hub namespace, not a registry host (add a port or a domain)`;
  }
  return undefined;
}

/** Parses a REGISTRY value; throws naming the value and the rule. */
export function parseRegistry(value: string): Registry {
  const problem = registryProblem(value);
  if (problem !== undefined) throw new Error(`registry ${JSON.stringify(value)} must be ${REGISTRY_RULE}: ${problem}`);
  const prefix = value.replace(/\/+$/, "");
  const slash = prefix.indexOf("/");
  const authority = slash === -1 ? prefix : prefix.slice(0, slash);
  const host = authority.replace(/:[0-9]+$/, "");
  const loopback = host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "[::1]";
  return { prefix, authority, path: slash === -1 ? "" : prefix.slice(slash + 1), loopback };
}

/** An image reference split into repository (with its registry, if any) and tag. */
export interface ImageReference {
  repository: string;
  tag: string;
}

/** `m3agg-local/etcd:v3.6.13` → repository `m3agg-local/etcd`, tag `v3.6.13`; throws when there is no tag. */
export function splitTag(image: string): ImageReference {
  const colon = image.lastIndexOf(":");
  if (colon === -1 || colon < image.lastIndexOf("/") || image.includes("@")) throw new Error(`image ${JSON.stringify(image)} must be repository:tag (no digest)`);
  return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
}

/** The name a local image gets under the registry: `R/m3agg-local/m3aggregator:v1.6.0`. */
export function pushedName(registry: Registry, localImage: string): string {
  return `${registry.prefix}/${localImage}`;
}

/** The repository's name in the registry's HTTP API (`/v2/<name>/manifests/…`): the path after the host. */
export function apiRepository(registry: Registry, localImage: string): string {
  const { repository } = splitTag(localImage);
  return registry.path === "" ? repository : `${registry.path}/${repository}`;
}

/** `R/m3agg-local/m3aggregator:v1.6.0` + digest → `R/m3agg-local/m3aggregator@sha256:…`; throws on a malformed digest. */
export function byDigest(image: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new Error(`digest ${JSON.stringify(digest)} of ${image} must be sha256:<64 hex digits>`);
  return `${splitTag(image).repository}@${digest}`;
}
