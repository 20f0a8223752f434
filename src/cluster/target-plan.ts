/**
 * A plan for an engine target without asking any engine: `m3agg render` and the render tests.
 * Images are the ones the options name, else the local build of the version (or, with a
 * registry, the same names under it: `m3agg images --push REGISTRY` pushes them there), by digest
 * where one is given (`R/m3agg-local/m3aggregator@sha256:…`: what was pushed, not whatever the tag
 * names later). Digests are inputs: the caller reads them from the registry or the push record.
 */
import type { M3AggregatorClusterOptions, ResolvedClusterOptions } from "../model/options";
import { resolveDigests } from "../docker/registry";
import { parseRegistry } from "../model/registry";
import { COMPONENTS } from "../model/components";
import { resolveOptions } from "./options";
import { type ClusterPlan, type PlanImages, planCluster } from "../plan/plan";
import { namedPortPlan } from "../plan/network";
import { versionProfile } from "../model/versions";
import type { Component } from "../model/components";
import { byDigest } from "../model/registry";
import { generateCertificates } from "../tls/certificates";
import type { TlsFiles } from "../targets/workloads";

/** Manifest digests of the pushed local images, by component (`sha256:…`). */
export type ImageDigests = Partial<Record<Component, string>>;

/**
 * Image names for a target: explicit ones, else the local build's, under `registry` when given,
 * by digest when `digests` has the component's (only under a registry: a digest names what a
 * registry holds).
 */
export function targetImages(options: M3AggregatorClusterOptions, registry?: string, digests: ImageDigests = {}): PlanImages {
  return imagesFor(resolveOptions(options), registry, digests);
}

/** {@link targetImages} of options already resolved (the kubernetes runner's). */
export function imagesFor(resolved: ResolvedClusterOptions, registry?: string, digests: ImageDigests = {}): PlanImages {
  const local = versionProfile(resolved.m3Version).localImages;
  const name = (component: Component) => {
    const explicit = resolved.images[component];
    if (explicit !== undefined) return { image: explicit, source: "option" as const };
    if (registry === undefined) return { image: local[component], source: "local" as const };
    const pushed = `${registry.replace(/\/+$/, "")}/${local[component]}`;
    const digest = digests[component];
    return { image: digest === undefined ? pushed : byDigest(pushed, digest), source: "local" as const };
  };
  return { m3aggregator: name("m3aggregator"), m3coordinator: name("m3coordinator"), etcd: name("etcd") };
}

/** The plan of a swarm or kubernetes cluster: pure (no engine, no allocation: the named model's ports are fixed). */
export function planForTarget(options: M3AggregatorClusterOptions, digests: ImageDigests = {}): ClusterPlan {
  const resolved = resolveOptions(options);
  if (resolved.network.model !== "named") {
    throw new Error(`target "docker" runs containers on this engine's host network (the loopback model): there is nothing to render; use target swarm or kubernetes`);
  }
  const registry = resolved.target.kind === "kubernetes" ? resolved.target.registry : undefined;
  return planCluster({ options: resolved, ports: namedPortPlan(resolved.nodes), images: targetImages(options, registry, digests) });
}

/** Fresh certificates for a named-model plan with TLS on (SAN: the aggregators' service name), or undefined. */
export async function certificatesFor(plan: ClusterPlan): Promise<TlsFiles | undefined> {
  if (plan.tls === undefined || plan.names === undefined) return undefined;
  const c = await generateCertificates(plan.clusterId, plan.names.hosts.tlsServerName);
  return { ca: c.caCert, serverCert: c.serverCert, serverKey: c.serverKey, clientCert: c.clientCert, clientKey: c.clientKey };
}

/**
 * The digest of each local-build image under the target's registry (kubernetes only): asked of the
 * registry, else read from the push record. `notes` names each image left by tag, and why.
 */
export async function targetDigests(resolved: ResolvedClusterOptions): Promise<{ digests: ImageDigests; notes: string[] }> {
  if (resolved.target.kind !== "kubernetes" || resolved.target.registry === undefined) return { digests: {}, notes: [] };
  const registry = parseRegistry(resolved.target.registry);
  const local = versionProfile(resolved.m3Version).localImages;
  const components = COMPONENTS.filter((c) => resolved.images[c] === undefined); // an image named by an option stays as named
  const { digests, notes } = await resolveDigests(registry, components.map((c) => local[c]));
  const out: ImageDigests = {};
  for (const c of components) {
    const found = digests.get(local[c]);
    if (found !== undefined) out[c] = found.digest;
  }
  return { digests: out, notes };
}
