/**
 * A lint of Pod Security Standards "restricted" (Kubernetes docs, "Pod Security Standards",
 * policies of the baseline and restricted profiles), written from the documentation and not
 * from our renderer: each rule returns the violations of one pod template. The API layer
 * (test/kube) checks the same with the real admission plugin.
 */

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/** Volume types the restricted profile allows. */
const ALLOWED_VOLUMES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);
/** Sysctls the baseline profile allows. */
const SAFE_SYSCTLS = new Set(["kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"]);

/** The pod spec of a workload object (or of a Pod), or undefined for objects without pods. */
export function podSpecOf(object: Json): Json | undefined {
  if (object.kind === "Pod") return obj(object.spec);
  const template = obj(obj(object.spec).template);
  if (object.kind === "CronJob") return obj(obj(obj(obj(obj(object.spec).jobTemplate).spec).template).spec);
  return Object.keys(template).length === 0 ? undefined : obj(template.spec);
}

/** Violations of the restricted profile by one pod spec (empty: passes). */
export function restrictedViolations(spec: Json): string[] {
  const v: string[] = [];
  const podSc = obj(spec.securityContext);
  for (const key of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[key] === true) v.push(`${key}: true`);
  for (const vol of arr(spec.volumes)) {
    const type = Object.keys(vol).find((k) => k !== "name");
    if (type === undefined || !ALLOWED_VOLUMES.has(type)) v.push(`volume ${String(vol.name)} of type ${type}`);
  }
  for (const s of arr(podSc.sysctls)) if (!SAFE_SYSCTLS.has(String(s.name))) v.push(`sysctl ${String(s.name)}`);
  const podSeccomp = obj(podSc.seccompProfile).type;
  const containers = [...arr(spec.containers), ...arr(spec.initContainers), ...arr(spec.ephemeralContainers)];
  if (containers.length === 0) v.push("no containers");
  for (const c of containers) {
    const name = String(c.name);
    const sc = obj(c.securityContext);
    if (sc.privileged === true) v.push(`${name}: privileged`);
    for (const p of arr(c.ports)) if (p.hostPort !== undefined && p.hostPort !== 0) v.push(`${name}: hostPort ${String(p.hostPort)}`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${name}: allowPrivilegeEscalation is not false`);
    const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    if (runAsNonRoot !== true) v.push(`${name}: runAsNonRoot is not true`);
    for (const uid of [sc.runAsUser, podSc.runAsUser]) if (uid === 0) v.push(`${name}: runAsUser 0`);
    const seccomp = obj(sc.seccompProfile).type ?? podSeccomp;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") v.push(`${name}: seccompProfile is ${String(seccomp)}`);
    const caps = obj(sc.capabilities);
    const drop = (caps.drop as string[] | undefined) ?? [];
    if (!drop.includes("ALL")) v.push(`${name}: capabilities do not drop ALL`);
    for (const add of (caps.add as string[] | undefined) ?? []) if (add !== "NET_BIND_SERVICE") v.push(`${name}: adds capability ${add}`);
    const procMount = sc.procMount;
    if (procMount !== undefined && procMount !== "Default") v.push(`${name}: procMount ${String(procMount)}`);
    const seLinuxType = obj(sc.seLinuxOptions).type;
    if (seLinuxType !== undefined && !["container_t", "container_init_t", "container_kvm_t", "container_engine_t"].includes(String(seLinuxType))) v.push(`${name}: seLinux type ${String(seLinuxType)}`);
  }
  return v;
}
