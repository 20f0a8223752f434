/**
 * Push layer: `m3agg images --push` against a real registry (CNCF Distribution v3.1.2 built from
 * the Go module proxy, on 127.0.0.1), and `m3agg render --target kubernetes --registry` naming the
 * pushed images by digest. Every digest is checked against the registry's own v2 API
 * (Docker-Content-Digest, asked here with fetch, not through the package's code), and pulling by
 * digest from the registry into the engine works. Teardown (every path): the registry is stopped,
 * its storage deleted, and the tags push and pull made are removed from the engine.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { defaultM3Version, versionProfile } from "../../src/model/versions";
import { buildRegistry, type LocalRegistry, startRegistry } from "./local-registry";

const main = path.resolve(__dirname, "../../src/cli/main.ts");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-push-"));
const record = path.join(work, "pushed.json");
const version = defaultM3Version();
const local = versionProfile(version).localImages;
const LOCAL = [local.m3aggregator, local.m3coordinator, local.etcd];
/** What a push sends: the cluster's images and the load generator (m3agg load --target kubernetes). */
const PUSHED = [...LOCAL, local.loadgen];
const ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

let registry: LocalRegistry | undefined;

function m3agg(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", main, ...args], {
    encoding: "utf8", timeout: 300_000,
    env: { ...process.env, M3AGG_PUSH_RECORD: record, M3AGG_SKIP_BUILD: "1", M3AGG_STATE_DIR: work },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The registry's answer for a tag or digest: its Docker-Content-Digest header. */
async function manifestDigest(reg: LocalRegistry, image: string, reference: string): Promise<string | null> {
  const name = image.replace(/:[^:/]+$/, "");
  const answer = await fetch(`${reg.url}/v2/${name}/manifests/${reference}`, { method: "HEAD", headers: { accept: ACCEPT } });
  expect({ image, reference, status: answer.status }).toEqual({ image, reference, status: 200 });
  return answer.headers.get("docker-content-digest");
}

/** Every tag of this engine under the registry (pushed or pulled): what teardown must leave none of. */
function engineTagsUnder(address: string): string[] {
  const out = execFileSync("docker", ["image", "ls", "--digests", "--format", "{{.Repository}}:{{.Tag}}@{{.Digest}}"]).toString();
  return out.split("\n").filter((line) => line.startsWith(`${address}/`));
}

function removeEngineTags(address: string): void {
  for (const line of engineTagsUnder(address)) {
    const [nameTag, digest] = line.split("@") as [string, string];
    const repository = nameTag.replace(/:[^:/]*$/, "");
    if (!nameTag.endsWith(":<none>")) spawnSync("docker", ["image", "rm", "--no-prune", nameTag], { stdio: "ignore" });
    if (digest !== undefined && digest !== "<none>") spawnSync("docker", ["image", "rm", "--no-prune", `${repository}@${digest}`], { stdio: "ignore" });
  }
}

beforeAll(async () => {
  for (const image of LOCAL) execFileSync("docker", ["image", "inspect", image], { stdio: "ignore" }); // built by npm test / npm run images
  const { binary, ms } = buildRegistry();
  process.stderr.write(`registry binary ${binary} (${ms} ms, cached by input hash)\n`);
  registry = await startRegistry(binary);
}, 30 * 60_000);

afterAll(async () => {
  const address = registry?.address;
  try {
    if (address !== undefined) removeEngineTags(address);
  } finally {
    await registry?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (address !== undefined) {
    expect(engineTagsUnder(address)).toEqual([]);
    await expect(fetch(`http://${address}/v2/`)).rejects.toThrow(); // nothing answers any more
  }
}, 120_000);

describe("images --push and render by digest", () => {
  const pushed = new Map<string, string>(); // local image → digest the registry answers

  test("a REGISTRY that breaks the rule is a usage error naming it and the rule", () => {
    const result = m3agg(["images", "--push", "https://127.0.0.1:5000"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--push "https://127.0.0.1:5000": it has a scheme');
    expect(result.stderr).toContain("a registry is host[:port][/path]");
  }, 120_000);

  test("push prints each image by digest: the digest the registry's v2 API answers for the tag", async () => {
    const reg = registry as LocalRegistry;
    const t0 = Date.now();
    const result = m3agg(["images", "--push", reg.address, "--m3-version", version]);
    const ms = Date.now() - t0;
    expect({ status: result.status, stderr: result.stderr.slice(-2000) }).toEqual({ status: 0, stderr: expect.any(String) });
    process.stderr.write(`m3agg images --push (4 images, cold registry): ${ms} ms\n${result.stdout}`);
    const printed = result.stdout.trim().split("\n").map((line) => line.split(/\s+/)[0] as string);
    expect(printed).toHaveLength(PUSHED.length);
    for (const image of PUSHED) {
      const digest = await manifestDigest(reg, image, image.replace(/^.*:/, ""));
      expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(printed).toContain(`${reg.address}/${image.replace(/:[^:/]+$/, "")}@${digest}`);
      pushed.set(image, digest as string);
    }
    // The record holds the same digests, by pushed tag.
    const recorded = JSON.parse(fs.readFileSync(record, "utf8")) as Record<string, { digest: string }>;
    for (const image of PUSHED) expect(recorded[`${reg.address}/${image}`]?.digest).toBe(pushed.get(image));
  }, 300_000);

  test("render --registry names every container's image REGISTRY/<name>@<the registry's digest>", () => {
    const reg = registry as LocalRegistry;
    expect(pushed.size).toBe(PUSHED.length);
    const result = m3agg(["render", "--target", "kubernetes", "--registry", reg.address, "--nodes", "4", "--rf", "2", "--cluster-id", "pushed-digests"]);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: "" }); // no image fell back to a tag
    const images = new Set<string>();
    for (const doc of parseAllDocuments(result.stdout)) {
      const o = doc.toJS() as { spec?: { template?: { spec?: { containers?: Array<{ image: string }> } } } } | null;
      for (const c of o?.spec?.template?.spec?.containers ?? []) images.add(c.image);
    }
    expect([...images].sort()).toEqual(LOCAL.map((image) => `${reg.address}/${image.replace(/:[^:/]+$/, "")}@${pushed.get(image)}`).sort());
  }, 120_000);

  test("pulling by digest from the registry works, and the registry holds exactly the local image's layers", async () => {
    const reg = registry as LocalRegistry;
    const reference = `${reg.address}/${local.etcd.replace(/:[^:/]+$/, "")}@${pushed.get(local.etcd)}`;
    execFileSync("docker", ["pull", reference], { stdio: "ignore", timeout: 120_000 });
    // The registry itself answered the engine for the manifest by digest (its access log: GET, or HEAD
    // when the engine's content store already holds that manifest), and it is the local image.
    const name = local.etcd.replace(/:[^:/]+$/, "");
    const served = reg.log().split("\n").filter((l) => l.includes(`/v2/${name}/manifests/${pushed.get(local.etcd)} `) && l.includes('" 200 ') && l.includes('"docker/'));
    expect(served.map((l) => /"(GET|HEAD) /.exec(l)?.[1])).toEqual([expect.stringMatching(/^(GET|HEAD)$/)]);
    const id = (image: string) => execFileSync("docker", ["image", "inspect", "-f", "{{.Id}}", image]).toString().trim();
    expect(id(reference)).toBe(id(local.etcd)); // (no container is run from it: the layers are compared instead)
    // The engine had the layers already, so the pull moved only the manifest: the layers' bytes are
    // checked here instead. The manifest the digest names lists blobs whose uncompressed sha256 are
    // the local image's layers (its diff ids).
    const manifest = await (await fetch(`${reg.url}/v2/${name}/manifests/${pushed.get(local.etcd)}`, { headers: { accept: ACCEPT } })).json() as { layers: Array<{ digest: string; mediaType: string }> };
    const diffIds: string[] = [];
    for (const layer of manifest.layers) {
      const blob = Buffer.from(await (await fetch(`${reg.url}/v2/${name}/blobs/${layer.digest}`)).arrayBuffer());
      expect(`sha256:${createHash("sha256").update(blob).digest("hex")}`).toBe(layer.digest);
      const tar = layer.mediaType.endsWith("gzip") ? gunzipSync(blob) : blob;
      diffIds.push(`sha256:${createHash("sha256").update(tar).digest("hex")}`);
    }
    expect(diffIds).toEqual(JSON.parse(execFileSync("docker", ["image", "inspect", "-f", "{{json .RootFS.Layers}}", local.etcd]).toString()));
  }, 180_000);

  test("a path nothing was pushed to: render names the images by tag, with a note per image naming the push command", () => {
    const reg = registry as LocalRegistry;
    const result = m3agg(["render", "--target", "kubernetes", "--registry", `${reg.address}/elsewhere`, "--cluster-id", "by-tag"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`image: ${reg.address}/elsewhere/${local.m3aggregator}`);
    expect(result.stderr).toContain(`${reg.address}/elsewhere/${local.m3aggregator}: named by tag, no digest: the registry has no such tag and the push record has none (push with: m3agg images --push ${reg.address}/elsewhere)`);
  }, 120_000);

  test("the registry stopped: render takes the digests from the push record and says so", async () => {
    const reg = registry as LocalRegistry;
    await reg.stop();
    const result = m3agg(["render", "--target", "kubernetes", "--registry", reg.address, "--cluster-id", "from-record"]);
    expect(result.status).toBe(0);
    for (const image of LOCAL) {
      expect(result.stdout).toContain(`image: ${reg.address}/${image.replace(/:[^:/]+$/, "")}@${pushed.get(image)}`);
      expect(result.stderr).toContain(`${reg.address}/${image}: digest from the push record of `);
    }
  }, 120_000);
});
