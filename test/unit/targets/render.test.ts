/**
 * Render layer: the cluster plan as Kubernetes objects and as a Swarm stack, without any
 * engine. Golden files per (nodes, rf, TLS, version) (UPDATE_GOLDEN=1 rewrites them: review the
 * diff), invariants checked against Kubernetes' own limits, schema validation with
 * kubernetes-models (the API's OpenAPI schemas), a Pod Security "restricted" lint written from
 * its documentation, and Docker's own compose loader (`docker stack config`) for the stack.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { planForTarget } from "../../../src/cluster/target-plan";
import { type KubernetesObject, kubernetesYaml, renderKubernetes, PLAN_ANNOTATION } from "../../../src/targets/kubernetes";
import { renderSwarmStack, swarmStackYaml } from "../../../src/targets/swarm";
import { renderLoadJob } from "../../../src/targets/load-job";
import type { TlsFiles } from "../../../src/targets/workloads";
import { decodePlanLabel } from "../../../src/plan/plan";
import type { M3AggregatorClusterOptions } from "../../../src/model/options";
import { podSpecOf, restrictedViolations } from "./restricted-lint";

const GOLDEN = path.join(__dirname, "golden");
const ROOT = path.resolve(__dirname, "../../..");
/** Stand-ins for the certificates (rendering copies them; their content is not its business). */
const FAKE_TLS: TlsFiles = { ca: "CA-PEM\n", serverCert: "SERVER-CERT-PEM\n", serverKey: "SERVER-KEY-PEM\n", clientCert: "CLIENT-CERT-PEM\n", clientKey: "CLIENT-KEY-PEM\n" };

interface Case { nodes: number; rf: number; tls: boolean; version: "v1.6.0" | "v1.5.0" }
const CASES: Case[] = [
  { nodes: 4, rf: 2, tls: false, version: "v1.6.0" },
  { nodes: 4, rf: 2, tls: true, version: "v1.6.0" },
  { nodes: 6, rf: 3, tls: false, version: "v1.5.0" },
  { nodes: 2, rf: 1, tls: true, version: "v1.6.0" },
];
const caseName = (c: Case) => `${c.nodes}x${c.rf}-${c.tls ? "tls" : "plain"}-${c.version}`;
const optionsOf = (c: Case, target: M3AggregatorClusterOptions["target"]): M3AggregatorClusterOptions =>
  ({ clusterId: `m3agg-${caseName(c).replace(/\./g, "-")}`, nodes: c.nodes, rf: c.rf, tls: c.tls ? "permissive" : false, m3Version: c.version, target });
const k8s = (c: Case) => renderKubernetes(planForTarget(optionsOf(c, { kubernetes: {} })), c.tls ? FAKE_TLS : undefined);
const swarm = (c: Case) => renderSwarmStack(planForTarget(optionsOf(c, { swarm: {} })), c.tls ? FAKE_TLS : undefined);

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(file, actual);
  if (!fs.existsSync(file)) throw new Error(`no golden file ${file}: run UPDATE_GOLDEN=1 once and review it`);
  expect(actual).toBe(fs.readFileSync(file, "utf8"));
}

const byKind = (objects: KubernetesObject[], kind: string, name?: string) =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name)) as Array<Record<string, any>>;

describe("render: golden files", () => {
  test.each(CASES)("kubernetes $nodes nodes rf $rf tls $tls $version", (c) => {
    golden(`kubernetes-${caseName(c)}.yaml`, kubernetesYaml(k8s(c)));
  });
  test.each(CASES)("swarm $nodes nodes rf $rf tls $tls $version", (c) => {
    const stack = swarm(c);
    golden(`swarm-${caseName(c)}.yaml`, swarmStackYaml(stack));
    expect(Object.keys(stack.files).sort()).toEqual(c.tls
      ? ["ca.pem", "client-key.pem", "client.pem", "m3aggregator.yml", "m3coordinator.yml", "server-key.pem", "server.pem"]
      : ["m3aggregator.yml", "m3coordinator.yml"]);
  });
});

describe("render: images pushed to a registry, by digest", () => {
  const REGISTRY = "registry.example:5000/ci";
  const DIGESTS = { m3aggregator: `sha256:${"a1".repeat(32)}`, m3coordinator: `sha256:${"c2".repeat(32)}`, etcd: `sha256:${"e3".repeat(32)}` };
  const c: Case = { nodes: 4, rf: 2, tls: true, version: "v1.6.0" };
  const pushed = () => renderKubernetes(planForTarget(optionsOf(c, { kubernetes: { registry: REGISTRY } }), DIGESTS), FAKE_TLS);

  test("golden: every container names its image as REGISTRY/<name>@<digest>", () => {
    golden(`kubernetes-${caseName(c)}-pushed.yaml`, kubernetesYaml(pushed()));
  });

  test("each workload's image is the pushed repository at the given digest, and the plan annotation records it", () => {
    const objects = pushed();
    const images = new Map<string, string>();
    for (const o of objects) {
      for (const container of (o as any).spec?.template?.spec?.containers ?? []) images.set(container.name, container.image);
    }
    expect(Object.fromEntries(images)).toEqual({
      etcd: `${REGISTRY}/m3agg-local/etcd@${DIGESTS.etcd}`,
      m3coordinator: `${REGISTRY}/m3agg-local/m3coordinator@${DIGESTS.m3coordinator}`,
      m3aggregator: `${REGISTRY}/m3agg-local/m3aggregator@${DIGESTS.m3aggregator}`,
    });
    const plan = decodePlanLabel(objects[0]?.metadata?.annotations?.[PLAN_ANNOTATION] as string);
    expect(plan.images.m3aggregator.image).toBe(`${REGISTRY}/m3agg-local/m3aggregator@${DIGESTS.m3aggregator}`);
  });

  test("without digests the same registry names the tags; a digest without a registry changes nothing", () => {
    const byTag = renderKubernetes(planForTarget(optionsOf(c, { kubernetes: { registry: REGISTRY } })), FAKE_TLS);
    expect(kubernetesYaml(byTag)).toContain(`image: ${REGISTRY}/m3agg-local/m3aggregator:v1.6.0`);
    expect(kubernetesYaml(renderKubernetes(planForTarget(optionsOf(c, { kubernetes: {} }), DIGESTS), FAKE_TLS))).toBe(kubernetesYaml(k8s(c)));
  });

  test("a malformed digest is refused naming it", () => {
    expect(() => planForTarget(optionsOf(c, { kubernetes: { registry: REGISTRY } }), { etcd: "sha256:nothex" }))
      .toThrow('digest "sha256:nothex" of registry.example:5000/ci/m3agg-local/etcd:v3.6.13 must be sha256:<64 hex digits>');
  });
});

describe("render: kubernetes invariants", () => {
  const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
  const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

  test.each(CASES)("names, labels, selectors, annotation size: $nodes x $rf tls $tls $version", (c) => {
    const objects = k8s(c);
    const ns = objects[0]?.metadata?.name as string;
    expect(objects[0]?.kind).toBe("Namespace");
    for (const o of objects) {
      const name = o.metadata?.name ?? "";
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(DNS_LABEL);
      if (o.kind !== "Namespace") expect(o.metadata?.namespace).toBe(ns);
      const labelSets = [o.metadata?.labels ?? {}, (o as any).spec?.template?.metadata?.labels ?? {}];
      for (const labels of labelSets) {
        for (const [key, value] of Object.entries(labels as Record<string, string>)) {
          expect(key).toMatch(LABEL_KEY);
          expect(value.length).toBeLessThanOrEqual(63);
          expect(value).toMatch(LABEL_VALUE);
        }
      }
      const annotations = Object.entries(o.metadata?.annotations ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      expect(annotations).toBeLessThan(256 * 1024);
      // Every selector selects its own pod template.
      const spec = (o as any).spec;
      if (spec?.selector?.matchLabels !== undefined) expect(spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
    }
    for (const svc of byKind(objects, "Service")) {
      const pods = objects.filter((o) => (o as any).spec?.template?.metadata?.labels !== undefined &&
        Object.entries(svc.spec.selector).every(([k, v]) => (o as any).spec.template.metadata.labels[k] === v));
      expect(pods).toHaveLength(1); // each Service selects exactly one workload
    }
  });

  test("the plan annotation decodes to the plan's inputs, and stays small for 64 nodes", () => {
    const c: Case = { nodes: 64, rf: 2, tls: true, version: "v1.6.0" };
    const plan = planForTarget(optionsOf(c, { kubernetes: {} }));
    const namespace = renderKubernetes(plan, FAKE_TLS)[0] as Record<string, any>;
    const text = namespace.metadata.annotations[PLAN_ANNOTATION] as string;
    expect(decodePlanLabel(text)).toEqual(JSON.parse(JSON.stringify(plan.inputs)));
    expect(Buffer.byteLength(text)).toBeLessThan(16 * 1024);
  });

  test("StatefulSet pod names are the placement instance ids, and their DNS names the placement endpoints", () => {
    const c: Case = { nodes: 4, rf: 2, tls: false, version: "v1.6.0" };
    const plan = planForTarget(optionsOf(c, { kubernetes: {} }));
    const objects = renderKubernetes(plan);
    const [sts] = byKind(objects, "StatefulSet", "m3aggregator");
    const [svc] = byKind(objects, "Service", sts?.spec.serviceName);
    expect(svc?.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
    expect(sts?.spec.podManagementPolicy).toBe("Parallel");
    // Kubernetes names StatefulSet pods <name>-<ordinal>; their DNS name is <pod>.<serviceName>.<namespace>.svc.
    const tcp = sts?.spec.template.spec.containers[0].ports.find((p: any) => p.name === "tcp").containerPort;
    const expected = Array.from({ length: sts?.spec.replicas }, (_, i) => `${sts?.metadata.name}-${i}.${sts?.spec.serviceName}.${sts?.metadata.namespace}.svc:${tcp}`);
    expect(plan.placement.instances.map((i) => i.endpoint)).toEqual(expected);
    expect(plan.placement.instances.map((i) => i.id)).toEqual(expected.map((e) => e.split(".")[0]));
    // The host id comes from the pod's name.
    expect(sts?.spec.template.spec.containers[0].env).toEqual([{ name: "M3AGGREGATOR_HOST_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]);
    // etcd: the endpoint in the configs is its StatefulSet pod behind its headless Service.
    const [etcd] = byKind(objects, "StatefulSet", "etcd");
    expect(plan.etcd.url).toBe(`http://${etcd?.metadata.name}-0.${etcd?.spec.serviceName}.${etcd?.metadata.namespace}.svc:2379`);
  });

  test.each(CASES)("every mounted key exists in its ConfigMap or Secret; probes hit declared ports: $nodes x $rf tls $tls", (c) => {
    const objects = k8s(c);
    const data = new Map<string, Record<string, string>>();
    for (const o of objects as Array<Record<string, any>>) {
      if (o.kind === "ConfigMap") data.set(`configMap/${o.metadata.name}`, o.data);
      if (o.kind === "Secret") data.set(`secret/${o.metadata.name}`, o.stringData);
    }
    for (const o of objects) {
      const spec = podSpecOf(o as any) as Record<string, any> | undefined;
      if (spec === undefined) continue;
      for (const container of spec.containers) {
        for (const mount of container.volumeMounts) {
          const volume = spec.volumes.find((v: any) => v.name === mount.name);
          expect(volume).toBeDefined();
          if (volume.emptyDir !== undefined) continue;
          const source = volume.configMap !== undefined ? `configMap/${volume.configMap.name}` : `secret/${volume.secret.secretName}`;
          expect(data.get(source)?.[mount.subPath]).toEqual(expect.any(String));
        }
        expect(container.ports.map((p: any) => p.containerPort)).toContain(container.readinessProbe.httpGet.port);
      }
    }
    expect(data.has("secret/m3agg-tls")).toBe(c.tls);
  });

  test("a TLS plan without its certificates, and a loopback plan, are refused", () => {
    const c: Case = { nodes: 2, rf: 2, tls: true, version: "v1.6.0" };
    expect(() => renderKubernetes(planForTarget(optionsOf(c, { kubernetes: {} })))).toThrow(/certificates are needed/);
    expect(() => planForTarget({ nodes: 2, rf: 2 })).toThrow(/nothing to render/);
  });
});

describe("render: kubernetes schema and Pod Security", () => {
  function validate(objects: unknown[]): Array<{ kind: string; name: string; error: string | null }> {
    const out = execFileSync(process.execPath, [path.join(__dirname, "validate-kubernetes.mjs")], { input: JSON.stringify(objects), cwd: ROOT });
    return JSON.parse(out.toString());
  }

  test.each(CASES)("every object validates against the API schema: $nodes x $rf tls $tls $version", (c) => {
    const results = validate(k8s(c));
    expect(results.filter((r) => r.error !== null)).toEqual([]);
    expect(results).toHaveLength(k8s(c).length);
  });

  test("the validator refuses a broken object (it can fail)", () => {
    const [sts] = byKind(k8s(CASES[0] as Case), "StatefulSet", "m3aggregator");
    const broken = { ...sts, spec: { ...sts?.spec, replicas: "four" } };
    expect(validate([broken])[0]?.error).toMatch(/replicas/);
  });

  test.each(CASES)("every pod template passes the restricted lint: $nodes x $rf tls $tls", (c) => {
    const templates = k8s(c).map((o) => podSpecOf(o as any)).filter((s) => s !== undefined);
    expect(templates).toHaveLength(3);
    for (const spec of templates) expect(restrictedViolations(spec as any)).toEqual([]);
  });

  test("the lint refuses a host-network variant and a root variant (it can fail)", () => {
    const [sts] = byKind(k8s(CASES[0] as Case), "StatefulSet", "m3aggregator");
    const spec = sts?.spec.template.spec;
    expect(restrictedViolations({ ...spec, hostNetwork: true })).toEqual(["hostNetwork: true"]);
    const rootContainer = { ...spec.containers[0], securityContext: { ...spec.containers[0].securityContext, runAsUser: 0, capabilities: { add: ["NET_ADMIN"], drop: [] } } };
    expect(restrictedViolations({ ...spec, containers: [rootContainer] })).toEqual([
      "m3aggregator: runAsUser 0", "m3aggregator: capabilities do not drop ALL", "m3aggregator: adds capability NET_ADMIN",
    ]);
  });
});

describe("render: swarm stack", () => {
  test.each(CASES)("docker's compose loader accepts the stack: $nodes x $rf tls $tls $version", (c) => {
    const stack = swarm(c);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-render-"));
    try {
      fs.writeFileSync(path.join(dir, "docker-stack.yml"), swarmStackYaml(stack));
      for (const [name, content] of Object.entries(stack.files)) fs.writeFileSync(path.join(dir, name), content);
      const loaded = parse(execFileSync("docker", ["stack", "config", "-c", "docker-stack.yml"], { cwd: dir }).toString());
      expect(Object.keys(loaded.services).sort()).toEqual(["etcd", "m3coordinator", ...Array.from({ length: c.nodes }, (_, i) => `m3aggregator-${i}`)].sort());
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("one service per node: its host id, dnsrr, host-mode published ports, the placement's isolation group as constraint", () => {
    const c: Case = { nodes: 4, rf: 2, tls: false, version: "v1.6.0" };
    const plan = planForTarget(optionsOf(c, { swarm: {} }));
    const services = renderSwarmStack(plan).compose.services as Record<string, any>;
    const published = new Set<number>();
    for (const instance of plan.placement.instances) {
      const s = services[instance.id];
      expect(s.environment).toEqual({ M3AGGREGATOR_HOST_ID: instance.id });
      expect(instance.endpoint).toBe(`${instance.id}:6003`); // the service name is its DNS name on the overlay
      expect(s.deploy.endpoint_mode).toBe("dnsrr");
      expect(s.deploy.placement.constraints).toEqual([`node.labels.m3agg-isolation-group == ${instance.isolation_group}`]);
      for (const p of s.ports) {
        expect(p.mode).toBe("host"); // never the ingress routing mesh
        expect(published.has(p.published)).toBe(false); // two nodes on one engine must not clash
        published.add(p.published);
      }
      expect(s.user).toBe("65532:65532");
      expect(s.read_only).toBe(true);
    }
    for (const s of Object.values(services)) expect(s.deploy.endpoint_mode).toBe("dnsrr");
  });
});

describe("render: the load Job (m3agg load --target kubernetes)", () => {
  const c: Case = { nodes: 4, rf: 2, tls: false, version: "v1.6.0" };
  const plan = () => planForTarget(optionsOf(c, { kubernetes: {} }));
  const options = { name: "m3agg-load-abc", image: "registry.test:5000/m3agg-local/loadgen:v1.6.0", ids: 100, increments: 50, rate: 1_000, idPrefix: "load.abc" };

  test("golden", () => {
    golden(`kubernetes-load-job-${caseName(c)}.yaml`, kubernetesYaml([renderLoadJob(plan(), options)]));
  });

  test("the Job: backoffLimit 0, never restarted, deadline = ids x increments / rate + slack, etcd by its DNS name in the namespace", () => {
    const job = renderLoadJob(plan(), options) as Record<string, any>;
    expect(job.metadata.namespace).toBe("m3agg-4x2-plain-v1-6-0");
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.template.spec.restartPolicy).toBe("Never");
    expect(job.spec.activeDeadlineSeconds).toBe(100 * 50 / 1_000 + 120);
    const args: string[] = job.spec.template.spec.containers[0].args;
    expect(args).toContain("-etcd=etcd-0.etcd.m3agg-4x2-plain-v1-6-0.svc:2379");
    expect(args).toEqual(expect.arrayContaining(["-ids=100", "-increments=50", "-rate=1000", "-id-prefix=load.abc", "-value=1"]));
    expect(job.spec.template.spec.containers[0].image).toBe(options.image);
    expect(renderLoadJob(plan(), { ...options, rate: undefined }).spec).toMatchObject({ activeDeadlineSeconds: 600 + 120 });
  });

  test("validates against the API schema and passes the restricted lint", () => {
    const job = renderLoadJob(plan(), options);
    const out = execFileSync(process.execPath, [path.join(__dirname, "validate-kubernetes.mjs")], { input: JSON.stringify([job]), cwd: ROOT });
    expect(JSON.parse(out.toString())).toEqual([{ kind: "Job", name: options.name, error: null }]);
    expect(restrictedViolations(podSpecOf(job as any) as any)).toEqual([]);
  });

  test("a loopback plan and parameters that cannot make a Job are refused naming the value", () => {
    const loopback = planForTarget({ ...optionsOf(c, { swarm: {} }) });
    expect(() => renderLoadJob({ ...loopback, network: "loopback", names: undefined } as any, options)).toThrow(/named network model.*loopback/);
    expect(() => renderLoadJob(plan(), { ...options, name: "Bad_Name" })).toThrow(/"Bad_Name" is no DNS label/);
    expect(() => renderLoadJob(plan(), { ...options, ids: 0 })).toThrow(/ids \(0\) and increments \(50\) must be positive/);
    expect(() => renderLoadJob(plan(), { ...options, increments: 1.5 })).toThrow(/increments must be a whole number ≥ 0, got 1.5/);
    expect(() => renderLoadJob(plan(), { ...options, idPrefix: "a b" })).toThrow(/idPrefix "a b"/);
  });
});
