/**
 * The CI image cache with a tiny image of its own (FROM scratch, one file), so no image a cluster
 * uses is touched: save names the archive by the inputs hash, load brings the image back with
 * that label, and an archive of other inputs is never loaded.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { archiveName, imageInputsLabel, loadImages, saveImages } from "../../src/docker/image-cache";

const token = `${process.pid}-${Date.now().toString(36)}`;
const tag = `m3agg-test/cache-probe:${token}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-cache-"));
const docker = (...args: string[]) => {
  const r = spawnSync("docker", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
};
const build = (hash: string, content: string) => {
  const ctx = path.join(work, `ctx-${hash}`);
  fs.mkdirSync(ctx, { recursive: true });
  fs.writeFileSync(path.join(ctx, "payload"), content);
  fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\nCOPY payload /payload\n");
  spawnSync("docker", ["build", "-q", "--label", `org.m3agg.inputs=${hash}`, "-t", tag, ctx], { env: { ...process.env, DOCKER_BUILDKIT: "0" }, encoding: "utf8" });
  return docker("image", "inspect", "-f", "{{.Id}}", tag);
};

afterAll(() => {
  spawnSync("docker", ["rmi", "-f", tag]);
  fs.rmSync(work, { recursive: true, force: true });
});

test("save → remove → load gives the same image back; a missing or stale image is not saved; stale archives are never loaded", () => {
  const cache = path.join(work, "cache");
  const old = { tag, hash: "00000000000000aa" };
  const now = { tag, hash: "00000000000000bb" };
  expect(saveImages(cache, [now])[0]!.action).toBe("not built"); // engine lacks it

  build(old.hash, `old ${token}`);
  expect(saveImages(cache, [now])[0]!.action).toBe("not built"); // built from other inputs
  expect(saveImages(cache, [old])[0]!.action).toBe("saved");
  const id = build(now.hash, `new ${token}`);
  const saved = saveImages(cache, [now])[0]!;
  expect(saved.action).toBe("saved");
  // The older archive of the same image was dropped; the new one is named by its hash.
  expect(fs.readdirSync(cache)).toEqual([archiveName(now)]);
  expect(archiveName(now)).toBe(`cache-probe-${token}@00000000000000bb.tar`);
  expect(saveImages(cache, [now])[0]!.action).toBe("already saved");

  expect(loadImages(cache, [now])[0]!.action).toBe("already up to date");
  docker("rmi", "-f", tag);
  expect(imageInputsLabel(tag)).toBeUndefined();
  // Asked for other inputs than the archive holds: nothing is loaded.
  expect(loadImages(cache, [{ tag, hash: "00000000000000cc" }])[0]!.action).toBe("not in cache");
  expect(imageInputsLabel(tag)).toBeUndefined();

  const loaded = loadImages(cache, [now])[0]!;
  expect(loaded.action).toBe("loaded");
  expect(imageInputsLabel(tag)).toBe(now.hash);
  expect(docker("image", "inspect", "-f", "{{.Id}}", tag)).toBe(id);
}, 120_000);

test("an archive that does not hold what its name says fails the load", () => {
  const cache = path.join(work, "lying");
  fs.mkdirSync(cache);
  build("00000000000000dd", `dd ${token}`);
  saveImages(cache, [{ tag, hash: "00000000000000dd" }]);
  fs.renameSync(path.join(cache, archiveName({ tag, hash: "00000000000000dd" })), path.join(cache, archiveName({ tag, hash: "00000000000000ee" })));
  docker("rmi", "-f", tag);
  expect(() => loadImages(cache, [{ tag, hash: "00000000000000ee" }])).toThrow(/did not give .* with inputs 00000000000000ee .*delete the archive/);
}, 120_000);
