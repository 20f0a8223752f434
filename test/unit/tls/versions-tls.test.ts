/** m3 versions, TLS settings and material, rendering per version and TLS mode, source-tree tags. */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { parse } from "yaml";
import { renderAggregatorConfig, renderCoordinatorConfig } from "../../../src/m3/config-render";
import { sourceTreeTag } from "../../../src/m3/source-build";
import { profileOfSource, versionProfile } from "../../../src/model/versions";
import { InvalidOptionError } from "../../../src/model/options";
import { resolveOptions } from "../../../src/cluster/options";
import { generateCertificates } from "../../../src/tls/certificates";
import { clusterTlsHandle, createTlsMaterial } from "../../../src/tls/material";
import { createClusterDir, removeClusterDir } from "../../../src/lifecycle/cluster-dir";

const ports = { http: 16001, metrics: 16002, tcp: 16003 };
const base = { ports, etcdClientPort: 12379, electionTtlSeconds: 10, backend: "blackhole" as const, logLevel: "info" as const };

function withEnv<T>(env: Record<string, string | undefined>, run: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    return run();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

describe("versions and TLS options", () => {
  const clean = { M3AGG_M3_VERSION: undefined, DISABLE_TLS: undefined, M3_SOURCE_DIR: undefined };

  test("default: m3 v1.6.0 with permissive mTLS, like m3's dev environment", () => withEnv(clean, () => {
    const options = resolveOptions();
    expect(options.m3Version).toBe("v1.6.0");
    expect(options.tls).toEqual({ mode: "permissive", mutualTls: true });
  }));

  test("DISABLE_TLS=true (the seed's variable) or tls: false turn TLS off; v1.5.0 has it off", () => {
    withEnv({ ...clean, DISABLE_TLS: "true" }, () => expect(resolveOptions().tls).toBeUndefined());
    withEnv(clean, () => {
      expect(resolveOptions({ tls: false }).tls).toBeUndefined();
      expect(resolveOptions({ m3Version: "v1.5.0" }).tls).toBeUndefined();
      expect(resolveOptions({ tls: "enforced" }).tls).toEqual({ mode: "enforced", mutualTls: true });
      expect(resolveOptions({ tls: { mode: "permissive", mutualTls: false } }).tls).toEqual({ mode: "permissive", mutualTls: false });
    });
  });

  test("M3AGG_M3_VERSION picks the version; an unknown one names the variable", () => {
    withEnv({ ...clean, M3AGG_M3_VERSION: "v1.5.0" }, () => expect(resolveOptions().m3Version).toBe("v1.5.0"));
    withEnv({ ...clean, M3AGG_M3_VERSION: "v1.4.2" }, () => expect(() => resolveOptions()).toThrow(/m3Version \(M3AGG_M3_VERSION\)="v1.4.2": must be one of "v1.6.0", "v1.5.0"/));
  });

  test.each([
    [{ m3Version: "v1.5.0", tls: "permissive" }, "tls", /m3 v1.5.0 has no raw TCP TLS/],
    [{ m3Version: "v1.5.0", tls: { mode: "enforced" } }, "tls", /m3 v1.5.0 has no raw TCP TLS.*tls: false, or m3Version: "v1.6.0"/],
    [{ tls: "on" }, "tls", /must be false, "permissive", "enforced"/],
    [{ tls: true }, "tls", /must be false, "permissive", "enforced"/],
    [{ tls: { mode: "enforced", mutualTls: "yes" } }, "tls.mutualTls", /true or false/],
    [{ m3Version: "1.6.0" }, "m3Version", /must be one of "v1.6.0", "v1.5.0"/],
    [{ m3Source: "/nonexistent/m3" }, "m3Source", /local m3 checkout.*cannot be read/],
  ])("%j is rejected on %s", (options, option, rule) => withEnv(clean, () => {
    try {
      resolveOptions(options as never);
      throw new Error("not rejected");
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
      expect((error as Error).message).toMatch(rule);
    }
  }));

  test("m3Source must hold m3's go.mod; the version profile is detected from the tree", () => withEnv(clean, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3src-"));
    fs.writeFileSync(path.join(dir, "go.mod"), "module example.com/other\n");
    expect(() => resolveOptions({ m3Source: dir })).toThrow(/is another module/);
    fs.writeFileSync(path.join(dir, "go.mod"), "module github.com/m3db/m3\n\ngo 1.22\n");
    expect(resolveOptions({ m3Source: dir })).toMatchObject({ m3Source: dir, m3Version: "v1.5.0", tls: undefined });
    fs.mkdirSync(path.join(dir, "src/x/server"), { recursive: true });
    fs.writeFileSync(path.join(dir, "src/x/server/secured_conn.go"), "package server\n");
    expect(profileOfSource(dir)).toBe("v1.6.0");
    expect(resolveOptions({ m3Source: dir }).m3Version).toBe("v1.6.0");
    fs.rmSync(dir, { recursive: true });
  }));
});

describe("rendering per version", () => {
  test("v1.6.0 writes the etcd autosync (whose omitted meaning changed) and the new timeouts", () => {
    const config = parse(renderAggregatorConfig({ ...base, m3Version: "v1.6.0" }));
    expect(config.kvClient.etcd.etcdClusters[0]).toMatchObject({ autoSyncInterval: "1m", dialTimeout: "15s" });
    expect(config.aggregator.client.connection.readTimeout).toBe("15s");
    const coordinator = parse(renderCoordinatorConfig({ port: 1, metricsPort: 2, etcdClientPort: 3, logLevel: "info", m3Version: "v1.6.0" }));
    expect(coordinator.clusterManagement.etcd.etcdClusters[0]).toMatchObject({ autoSyncInterval: "1m", dialTimeout: "15s" });
  });

  test("v1.5.0 gets none of those keys: its strict config loader rejects unknown ones", () => {
    const config = parse(renderAggregatorConfig({ ...base, m3Version: "v1.5.0" }));
    expect(Object.keys(config.kvClient.etcd.etcdClusters[0]).sort()).toEqual(["endpoints", "zone"]);
    expect(config.aggregator.client.connection.readTimeout).toBeUndefined();
    expect(config.aggregator.client.connection.tls).toBeUndefined();
    expect(config.rawtcp.tls).toBeUndefined();
    expect(renderCoordinatorConfig({ port: 1, metricsPort: 2, etcdClientPort: 3, logLevel: "info", m3Version: "v1.5.0" })).not.toMatch(/autoSyncInterval|dialTimeout/);
    expect(() => renderAggregatorConfig({ ...base, m3Version: "v1.5.0", tls: { mode: "permissive", mutualTls: true } })).toThrow("m3 v1.5.0 has no raw TCP TLS");
  });

  test.each([
    [{ mode: "permissive", mutualTls: true }],
    [{ mode: "enforced", mutualTls: true }],
    [{ mode: "enforced", mutualTls: false }],
  ] as const)("TLS %j: rawtcp.tls and the aggregators' own client, which verifies the server's SAN", (settings) => {
    const config = parse(renderAggregatorConfig({ ...base, host: "127.0.0.2", m3Version: "v1.6.0", tls: settings }));
    expect(config.rawtcp.tls).toEqual({
      mode: settings.mode, mTLSEnabled: settings.mutualTls,
      certFile: "/etc/m3agg/tls/server.pem", keyFile: "/etc/m3agg/tls/server-key.pem", clientCAFile: "/etc/m3agg/tls/ca.pem",
    });
    expect(config.aggregator.client.connection.tls).toEqual({
      enabled: true, insecureSkipVerify: false, tlsHandshakeOnConnect: true, serverName: "127.0.0.2",
      caFile: "/etc/m3agg/tls/ca.pem", certFile: "/etc/m3agg/tls/client.pem", keyFile: "/etc/m3agg/tls/client-key.pem",
    });
    expect(config.aggregator.client.connection.writeTimeout).toBe("1s"); // the template's connection block is kept
  });

  test("version profiles: etcd pairing and TLS support", () => {
    expect(versionProfile("v1.6.0")).toMatchObject({ etcdVersion: "v3.6.13", supportsTls: true, localImages: { etcd: "m3agg-local/etcd:v3.6.13" } });
    expect(versionProfile("v1.5.0")).toMatchObject({ etcdVersion: "v3.5.17", supportsTls: false, officialImages: { m3aggregator: "quay.io/m3db/m3aggregator:v1.5.0" } });
  });
});

describe("TLS material", () => {
  test("certificates: CA, server SAN = the host address, key usages, a year of validity; read back with Node's own X509 parser", async () => {
    const before = Date.now();
    const set = await generateCertificates("c1", "127.0.0.2");
    const ca = new crypto.X509Certificate(set.caCert);
    const server = new crypto.X509Certificate(set.serverCert);
    const client = new crypto.X509Certificate(set.clientCert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toBe("IP Address:127.0.0.2, DNS:localhost");
    expect(server.checkIP("127.0.0.2")).toBe("127.0.0.2");
    expect(server.checkIP("127.0.0.1")).toBeUndefined();
    expect(server.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]); // extended key usage serverAuth
    expect(client.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]); // clientAuth
    expect(server.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: "prime256v1" });
    expect(Date.parse(server.validFrom)).toBeLessThanOrEqual(before);
    const days = (Date.parse(server.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThan(366);
    expect(crypto.createPrivateKey(set.serverKey).asymmetricKeyType).toBe("ec");
    expect(server.checkPrivateKey(crypto.createPrivateKey(set.serverKey))).toBe(true);
  });

  test("files: cluster folder 0700, keys 0600, certificates 0644; removed by removeClusterDir", async () => {
    const id = `unit-${process.pid}`;
    const dir = createClusterDir(id);
    await createTlsMaterial(dir, id, "127.0.0.1");
    const mode = (file: string) => fs.statSync(path.join(dir, file)).mode & 0o777;
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, mode(f).toString(8)]))).toEqual({
      "ca.pem": "644", "client-key.pem": "600", "client.pem": "644", "server-key.pem": "600", "server.pem": "644",
      "owner.json": "644", // the process that made it: the orphan sweep removes the folder once that process is gone
    });
    expect(clusterTlsHandle(dir, { mode: "enforced", mutualTls: true }, "127.0.0.1")).toMatchObject({ mode: "enforced", mutualTls: true, caFile: path.join(dir, "ca.pem"), keyFile: path.join(dir, "client-key.pem"), serverName: "127.0.0.1" });
    expect(removeClusterDir(id)).toBe(dir);
    expect(fs.existsSync(dir)).toBe(false);
    expect(removeClusterDir(id)).toBeUndefined();
  });

  test("a real mTLS handshake: Node's TLS server with the server certificate accepts clientOptions() and refuses a client without a certificate", async () => {
    const id = `unit-hs-${process.pid}`;
    const dir = createClusterDir(id);
    await createTlsMaterial(dir, id, "127.0.0.1");
    const read = (file: string) => fs.readFileSync(path.join(dir, file), "utf8");
    const handle = clusterTlsHandle(dir, { mode: "enforced", mutualTls: true }, "127.0.0.1");
    const server = tls.createServer({ cert: read("server.pem"), key: read("server-key.pem"), ca: read("ca.pem"), requestCert: true, rejectUnauthorized: true },
      (socket) => socket.end(`hello ${socket.getPeerCertificate().subject?.CN}`));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const talk = (options: tls.ConnectionOptions) => new Promise<string>((resolve) => {
      const socket = tls.connect({ ...options, host: "127.0.0.1", port });
      let text = "";
      socket.on("data", (d) => { text += d; });
      socket.on("end", () => resolve(text));
      socket.on("error", (e: NodeJS.ErrnoException) => resolve(`error: ${e.code ?? e.message}`));
    });
    try {
      expect(await talk(handle.clientOptions())).toBe(`hello m3agg client ${id}`);
      const { cert: _cert, key: _key, ...withoutCertificate } = handle.clientOptions();
      expect(await talk(withoutCertificate)).toMatch(/^error|^$/);
      expect(await talk({ rejectUnauthorized: true })).toMatch(/^error: .*(SELF_SIGNED|UNABLE_TO|CERT)/); // our CA is not a system root
    } finally {
      server.close();
      removeClusterDir(id);
    }
  });
});

describe("source tree tags", () => {
  const git = (dir: string, ...args: string[]) => spawnSync("git", ["-C", dir, "-c", "user.email=t@t", "-c", "user.name=t", ...args], { encoding: "utf8" });

  test("git checkout: unchanged → same tag; an edit, a commit, an untracked file → new tags", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3tree-"));
    fs.writeFileSync(path.join(dir, "main.go"), "package main\n");
    git(dir, "init", "-q");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "one");
    const clean = sourceTreeTag(dir);
    expect(sourceTreeTag(dir)).toBe(clean);
    fs.appendFileSync(path.join(dir, "main.go"), "// changed\n");
    const edited = sourceTreeTag(dir);
    expect(edited).not.toBe(clean);
    git(dir, "commit", "-qam", "two");
    const committed = sourceTreeTag(dir);
    expect(new Set([clean, edited, committed]).size).toBe(3);
    fs.writeFileSync(path.join(dir, "new.go"), "package main\n");
    expect(sourceTreeTag(dir)).not.toBe(committed);
    fs.rmSync(dir, { recursive: true });
  });

  test("plain folder: file contents and names decide; .git-less trees are hashed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3tree-"));
    fs.mkdirSync(path.join(dir, "src"));
    fs.writeFileSync(path.join(dir, "src", "a.go"), "a");
    const first = sourceTreeTag(dir);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    fs.writeFileSync(path.join(dir, "src", "a.go"), "b");
    expect(sourceTreeTag(dir)).not.toBe(first);
    fs.writeFileSync(path.join(dir, "src", "a.go"), "a");
    expect(sourceTreeTag(dir)).toBe(first);
    fs.rmSync(dir, { recursive: true });
  });
});
