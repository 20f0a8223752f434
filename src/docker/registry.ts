/**
 * Pushing the built images to a registry (`m3agg images --push REGISTRY`) and reading their
 * digests back, so the Kubernetes manifests can name each image by digest:
 * - push: the docker CLI (`docker tag`, `docker push`), which uses the user's `docker login`
 *   credentials and credential helpers; the digest is the one the push reports;
 * - the push record: a JSON file of what was pushed where, with digests (M3AGG_PUSH_RECORD, default
 *   ~/.cache/m3agg/pushed.json), for rendering when the registry cannot be asked;
 * - the registry's own answer: the v2 API's manifest digest of a tag (Docker-Content-Digest, else
 *   the sha256 of the manifest's bytes), anonymous or with an anonymous bearer token.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { apiRepository, byDigest, DIGEST, pushedName, type Registry, splitTag } from "../model/registry";
import { httpRequest, type HttpResponse } from "../util/http";

const run = promisify(execFile);

/** One image pushed: the local tag, the tag under the registry, and the manifest digest. */
export interface PushedImage {
  local: string;
  /** `R/m3agg-local/m3aggregator:v1.6.0` */
  tag: string;
  /** `sha256:…` */
  digest: string;
  /** `R/m3agg-local/m3aggregator@sha256:…` */
  reference: string;
  /** The local image's id when it was pushed. */
  imageId: string;
  ms: number;
}

/** The manifest types a digest may name: OCI and Docker, single-platform and index. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Runs the docker CLI; a call the engine does not finish within `timeoutMs` fails naming it (a hung engine must not hang the push). */
async function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await run("docker", args, { maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs, killSignal: "SIGKILL" });
    return stdout;
  } catch (error) {
    const e = error as { code?: number | string; killed?: boolean; stderr?: string; message: string };
    if (e.killed === true) throw new Error(`docker ${args.join(" ")} did not finish within ${timeoutMs / 1000} s (is the engine hung? docker info)`);
    throw new Error(`docker ${args.join(" ")} failed (exit ${e.code}): ${(e.stderr || e.message).trim().split("\n").slice(-5).join(" | ")}`);
  }
}

/**
 * Tags `local` as `R/<local>` and pushes it. The digest comes from the push's own report
 * (`<tag>: digest: sha256:… size: N`); a push that reports none fails.
 */
export async function pushImage(registry: Registry, local: string): Promise<PushedImage> {
  const t0 = Date.now();
  const imageId = (await docker(["image", "inspect", "-f", "{{.Id}}", local]).catch((error: Error) => {
    throw new Error(`image ${local} is not on this engine (build it first: m3agg images): ${error.message}`);
  })).trim();
  const tag = pushedName(registry, local);
  await docker(["tag", local, tag]);
  const out = await docker(["push", tag], 20 * 60_000);
  const match = new RegExp(`${splitTag(tag).tag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: digest: (sha256:[a-f0-9]{64})`).exec(out);
  if (match === null) throw new Error(`docker push ${tag} reported no digest; its output: ${out.trim().split("\n").slice(-3).join(" | ")}`);
  const digest = match[1] as string;
  return { local, tag, digest, reference: byDigest(tag, digest), imageId, ms: Date.now() - t0 };
}

/** Removes the `R/…` tags push created from this engine (the images stay under their local tags). Missing tags are no error. */
export async function removePushedTags(tags: string[]): Promise<void> {
  for (const tag of tags) await docker(["image", "rm", "--no-prune", tag]).catch(() => undefined);
}

/** Where the push record is: M3AGG_PUSH_RECORD, else ~/.cache/m3agg/pushed.json. */
export function pushRecordFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.M3AGG_PUSH_RECORD !== undefined && env.M3AGG_PUSH_RECORD !== "") return env.M3AGG_PUSH_RECORD;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "m3agg", "pushed.json");
}

/** The record: pushed tag → digest and when. */
export type PushRecord = Record<string, { digest: string; imageId: string; pushedAt: string }>;

export function readPushRecord(file = pushRecordFile()): PushRecord {
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PushRecord;
  } catch (error) {
    throw new Error(`push record ${file} is not JSON (${(error as Error).message}): delete it, or push again`);
  }
}

/** Adds the pushed images to the record (replacing older digests of the same tags); returns the file. */
export function recordPushes(pushed: PushedImage[], file = pushRecordFile()): string {
  const record = readPushRecord(file);
  for (const p of pushed) record[p.tag] = { digest: p.digest, imageId: p.imageId, pushedAt: new Date().toISOString() };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, `${JSON.stringify(record, null, 2)}\n`);
  fs.renameSync(partial, file);
  return file;
}

/** `http://` for loopback registries (as Docker does: plain HTTP), else `https://`. */
export function registryBaseUrl(registry: Registry): string {
  return `${registry.loopback ? "http" : "https"}://${registry.authority}`;
}

/** An anonymous bearer token from a `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge. */
async function anonymousToken(challenge: string, timeoutMs: number): Promise<string | undefined> {
  if (!/^bearer /i.test(challenge)) return undefined;
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));
  if (params.realm === undefined) return undefined;
  const url = new URL(params.realm);
  if (params.service !== undefined) url.searchParams.set("service", params.service);
  if (params.scope !== undefined) url.searchParams.set("scope", params.scope);
  const answer = await httpRequest("GET", url.toString(), { timeoutMs });
  if (answer.status !== 200) return undefined;
  const body = JSON.parse(answer.text) as { token?: string; access_token?: string };
  return body.token ?? body.access_token;
}

/**
 * The manifest digest of `localImage`'s tag under the registry, as the registry's v2 API answers
 * it: `Docker-Content-Digest`, else the sha256 of the manifest's bytes. Undefined when the registry
 * has no such tag (404); throws naming the URL when it does not answer or refuses.
 */
export async function registryDigest(registry: Registry, localImage: string, timeoutMs = 5_000): Promise<string | undefined> {
  const url = `${registryBaseUrl(registry)}/v2/${apiRepository(registry, localImage)}/manifests/${splitTag(localImage).tag}`;
  const headers: Record<string, string> = { accept: MANIFEST_ACCEPT };
  let answer: HttpResponse = await httpRequest("GET", url, { headers, timeoutMs });
  if (answer.status === 401 && answer.headers["www-authenticate"] !== undefined) {
    const token = await anonymousToken(answer.headers["www-authenticate"], timeoutMs);
    if (token !== undefined) answer = await httpRequest("GET", url, { headers: { ...headers, authorization: `Bearer ${token}` }, timeoutMs });
  }
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw new Error(`GET ${url} answered ${answer.status}: ${answer.text.trim().slice(0, 200) || "(empty body)"}`);
  const header = answer.headers["docker-content-digest"];
  const digest = header ?? `sha256:${createHash("sha256").update(answer.text, "utf8").digest("hex")}`;
  if (!DIGEST.test(digest)) throw new Error(`GET ${url}: Docker-Content-Digest ${JSON.stringify(digest)} is not sha256:<64 hex digits>`);
  return digest;
}

/** Where a digest came from. */
export type DigestSource = "registry" | "push record";

/**
 * The digest of each local image under the registry: asked of the registry first (what the
 * cluster's nodes will pull), else read from the push record. `notes` says, per image, what was
 * tried when neither knows it (that image is then left out: the manifests name it by tag).
 */
export async function resolveDigests(registry: Registry, localImages: string[], record: PushRecord = readPushRecord()): Promise<{
  digests: Map<string, { digest: string; source: DigestSource }>;
  notes: string[];
}> {
  const digests = new Map<string, { digest: string; source: DigestSource }>();
  const notes: string[] = [];
  await Promise.all(localImages.map(async (local) => {
    let asked: string;
    try {
      const digest = await registryDigest(registry, local);
      if (digest !== undefined) {
        digests.set(local, { digest, source: "registry" });
        return;
      }
      asked = "the registry has no such tag";
    } catch (error) {
      asked = `the registry did not answer (${(error as Error).message})`;
    }
    const recorded = record[pushedName(registry, local)];
    if (recorded !== undefined && DIGEST.test(recorded.digest)) {
      digests.set(local, { digest: recorded.digest, source: "push record" });
      notes.push(`${pushedName(registry, local)}: digest from the push record of ${recorded.pushedAt} (${asked})`);
      return;
    }
    notes.push(`${pushedName(registry, local)}: named by tag, no digest: ${asked} and the push record has none (push with: m3agg images --push ${registry.prefix})`);
  }));
  return { digests, notes };
}
