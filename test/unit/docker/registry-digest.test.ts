/**
 * Reading a tag's manifest digest from a registry's v2 API, against a small HTTP server on
 * 127.0.0.1 that answers as registries do (the integration test runs a real one): the
 * Docker-Content-Digest header, else the manifest's sha256; the anonymous bearer-token challenge;
 * and the fallback to the push record (then to the tag) with a note saying why.
 */
import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { MANIFEST_ACCEPT, registryDigest, resolveDigests } from "../../../src/docker/registry";
import { parseRegistry } from "../../../src/model/registry";

const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", layers: [] });
const BODY_DIGEST = `sha256:${createHash("sha256").update(MANIFEST).digest("hex")}`;
const HEADER_DIGEST = `sha256:${"d".repeat(64)}`;
const seen: Array<{ url: string; accept?: string; authorization?: string }> = [];
let server: http.Server;
let address: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? "", accept: req.headers.accept, authorization: req.headers.authorization });
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/token") {
      res.end(JSON.stringify(url.searchParams.get("scope") === "repository:private/app:pull" && url.searchParams.get("service") === "test" ? { token: "T0K" } : {}));
    } else if (url.pathname === "/v2/with-header/app/manifests/v1") {
      res.writeHead(200, { "docker-content-digest": HEADER_DIGEST, "content-type": "application/vnd.oci.image.manifest.v1+json" }).end(MANIFEST);
    } else if (url.pathname === "/v2/no-header/app/manifests/v1") {
      res.writeHead(200).end(MANIFEST);
    } else if (url.pathname === "/v2/private/app/manifests/v1") {
      if (req.headers.authorization === "Bearer T0K") res.writeHead(200).end(MANIFEST);
      else res.writeHead(401, { "www-authenticate": `Bearer realm="http://${address}/token",service="test",scope="repository:private/app:pull"` }).end("{}");
    } else if (url.pathname === "/v2/bad/app/manifests/v1") {
      res.writeHead(200, { "docker-content-digest": "md5:abc" }).end(MANIFEST);
    } else {
      res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe("a tag's digest from the registry's v2 API", () => {
  test("Docker-Content-Digest, asked with the OCI and Docker manifest types", async () => {
    expect(await registryDigest(parseRegistry(`${address}/with-header`), "app:v1")).toBe(HEADER_DIGEST);
    expect(seen.at(-1)).toMatchObject({ url: "/v2/with-header/app/manifests/v1", accept: MANIFEST_ACCEPT });
    for (const type of ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"]) {
      expect(MANIFEST_ACCEPT).toContain(type);
    }
  });

  test("without the header: the sha256 of the manifest's bytes", async () => {
    expect(await registryDigest(parseRegistry(`${address}/no-header`), "app:v1")).toBe(BODY_DIGEST);
  });

  test("a bearer challenge: an anonymous token from the realm, then the same request with it", async () => {
    expect(await registryDigest(parseRegistry(`${address}/private`), "app:v1")).toBe(BODY_DIGEST);
    expect(seen.slice(-3).map((s) => [s.url.replace(/\?.*/, ""), s.authorization ?? null])).toEqual([
      ["/v2/private/app/manifests/v1", null], ["/token", null], ["/v2/private/app/manifests/v1", "Bearer T0K"],
    ]);
  });

  test("no such tag is undefined; a malformed digest header fails naming it", async () => {
    expect(await registryDigest(parseRegistry(address), "missing/app:v1")).toBeUndefined();
    await expect(registryDigest(parseRegistry(`${address}/bad`), "app:v1")).rejects.toThrow('Docker-Content-Digest "md5:abc" is not sha256:<64 hex digits>');
  });
});

describe("resolveDigests: the registry, else the push record, else by tag", () => {
  const RECORDED = `sha256:${"e".repeat(64)}`;

  test("the registry's answer wins over the record", async () => {
    const r = parseRegistry(`${address}/with-header`);
    const { digests, notes } = await resolveDigests(r, ["app:v1"], { [`${address}/with-header/app:v1`]: { digest: RECORDED, imageId: "x", pushedAt: "t" } });
    expect(digests.get("app:v1")).toEqual({ digest: HEADER_DIGEST, source: "registry" });
    expect(notes).toEqual([]);
  });

  test("a tag the registry lacks: the record's digest, with a note; without a record: by tag, with a note naming the push command", async () => {
    const r = parseRegistry(address);
    const record = { [`${address}/m3agg-local/etcd:v3.6.13`]: { digest: RECORDED, imageId: "x", pushedAt: "2026-12-01T00:00:00Z" } };
    const { digests, notes } = await resolveDigests(r, ["m3agg-local/etcd:v3.6.13", "m3agg-local/m3aggregator:v1.6.0"], record);
    expect(digests.get("m3agg-local/etcd:v3.6.13")).toEqual({ digest: RECORDED, source: "push record" });
    expect(digests.has("m3agg-local/m3aggregator:v1.6.0")).toBe(false);
    expect(notes.sort()).toEqual([
      `${address}/m3agg-local/etcd:v3.6.13: digest from the push record of 2026-12-01T00:00:00Z (the registry has no such tag)`,
      `${address}/m3agg-local/m3aggregator:v1.6.0: named by tag, no digest: the registry has no such tag and the push record has none (push with: m3agg images --push ${address})`,
    ]);
  });

  test("a registry that does not answer: the record, the note naming the URL that failed", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const gone = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const { digests, notes } = await resolveDigests(parseRegistry(gone), ["app:v1"], { [`${gone}/app:v1`]: { digest: RECORDED, imageId: "x", pushedAt: "t" } });
    expect(digests.get("app:v1")).toEqual({ digest: RECORDED, source: "push record" });
    expect(notes[0]).toContain(`the registry did not answer (GET http://${gone}/v2/app/manifests/v1 failed`);
  });
});
