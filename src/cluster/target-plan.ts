/**
 * A plan for an engine target without asking any engine: `m3agg render` and the render tests.
 * Images are the ones the options name, else the local build of the version (or, with a
 * registry, the same names under it: `m3agg images --push REGISTRY` pushes them there).
 */
import type { M3AggregatorClusterOptions } from "../model/options";
import { resolveOptions } from "./options";
import { type ClusterPlan, type PlanImages, planCluster } from "../plan/plan";
import { namedPortPlan } from "../plan/network";
import { versionProfile } from "../model/versions";
import { generateCertificates } from "../tls/certificates";
import type { TlsFiles } from "../targets/workloads";

/** Image names for a target: explicit ones, else the local build's, under `registry` when given. */
export function targetImages(options: M3AggregatorClusterOptions, registry?: string): PlanImages {
  const resolved = resolveOptions(options);
  const local = versionProfile(resolved.m3Version).localImages;
  const name = (component: "m3aggregator" | "m3coordinator" | "etcd") => {
    const explicit = resolved.images[component];
    if (explicit !== undefined) return { image: explicit, source: "option" as const };
    return { image: registry === undefined ? local[component] : `${registry.replace(/\/+$/, "")}/${local[component]}`, source: "local" as const };
  };
  return { m3aggregator: name("m3aggregator"), m3coordinator: name("m3coordinator"), etcd: name("etcd") };
}

/** The plan of a swarm or kubernetes cluster: pure (no engine, no allocation: the named model's ports are fixed). */
export function planForTarget(options: M3AggregatorClusterOptions): ClusterPlan {
  const resolved = resolveOptions(options);
  if (resolved.network.model !== "named") {
    throw new Error(`target "docker" runs containers on this engine's host network (the loopback model): there is nothing to render; use target swarm or kubernetes`);
  }
  const registry = resolved.target.kind === "kubernetes" ? resolved.target.registry : undefined;
  return planCluster({ options: resolved, ports: namedPortPlan(resolved.nodes), images: targetImages(options, registry) });
}

/** Fresh certificates for a named-model plan with TLS on (SAN: the aggregators' service name), or undefined. */
export async function certificatesFor(plan: ClusterPlan): Promise<TlsFiles | undefined> {
  if (plan.tls === undefined || plan.names === undefined) return undefined;
  const c = await generateCertificates(plan.clusterId, plan.names.hosts.tlsServerName);
  return { ca: c.caCert, serverCert: c.serverCert, serverKey: c.serverKey, clientCert: c.clientCert, clientKey: c.clientKey };
}
