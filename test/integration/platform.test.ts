/**
 * Images are built for the Docker engine's platform, not this machine's. A cross-build for linux/arm64
 * (M3AGG_PLATFORM) gives arm64 ELF binaries, read here from the ELF header itself (e_machine 183 =
 * EM_AARCH64, ELF spec), in images of their own tag, while the engine's own (amd64) images are
 * untouched and still run. Toxiproxy is the image built: the smallest of the set.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "../..");
const toxiproxyVersion = (JSON.parse(fs.readFileSync(path.join(root, "images/images.json"), "utf8")) as { toxiproxyVersion: string }).toxiproxyVersion;
const nativeTag = `m3agg-local/toxiproxy:${toxiproxyVersion}`;
const crossTag = `${nativeTag}-linux-arm64`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-platform-"));

const docker = (...args: string[]): string => {
  const r = spawnSync("docker", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
};
const build = (env: Record<string, string>): void => {
  const r = spawnSync("bash", [path.join(root, "images/build.sh"), "--toxiproxy-only"], {
    env: { ...process.env, M3AGG_BUILD_DIR: work, ...env }, encoding: "utf8", timeout: 15 * 60_000,
  });
  if (r.status !== 0) throw new Error(`images/build.sh --toxiproxy-only (${JSON.stringify(env)}) exited ${r.status}:\n${r.stderr}`);
};
/** e_machine of an ELF file: 62 = x86-64, 183 = AArch64 (little-endian, 64-bit files). */
const elfMachine = (file: string): { elf: boolean; bits: number; machine: number } => {
  const header = Buffer.alloc(20);
  const fd = fs.openSync(file, "r");
  try {
    fs.readSync(fd, header, 0, 20, 0);
  } finally {
    fs.closeSync(fd);
  }
  return { elf: header.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])), bits: header[4] === 2 ? 64 : 32, machine: header.readUInt16LE(18) };
};

afterAll(() => {
  spawnSync("docker", ["rmi", "-f", crossTag]);
  fs.rmSync(work, { recursive: true, force: true });
});

test("a cross-build for linux/arm64 gives arm64 ELF binaries under their own tag; the engine's own images stay and still run", () => {
  build({}); // the engine's platform: up to date, or built now
  const nativeId = docker("image", "inspect", "-f", "{{.Id}}", nativeTag);
  build({ M3AGG_PLATFORM: "linux/arm64" });
  const binary = path.join(work, "cross-linux-arm64", `toxiproxy-${toxiproxyVersion}`, "toxiproxy");
  expect(elfMachine(binary)).toEqual({ elf: true, bits: 64, machine: 183 });
  expect(docker("image", "inspect", "-f", "{{index .Config.Labels \"org.m3agg.inputs\"}}", crossTag)).toMatch(/^[0-9a-f]{16}$/);
  // The engine's image is the same image as before, and runs (the Toxiproxy binary answers -version).
  expect(docker("image", "inspect", "-f", "{{.Id}}", nativeTag)).toBe(nativeId);
  expect(docker("run", "--rm", nativeTag, "-version")).toContain("toxiproxy-server version");
}, 20 * 60_000);

test("a platform the images cannot be built for is refused, naming it and the rule", () => {
  const r = spawnSync("bash", [path.join(root, "images/build.sh"), "--toxiproxy-only"], {
    env: { ...process.env, M3AGG_BUILD_DIR: work, M3AGG_PLATFORM: "darwin/arm64" }, encoding: "utf8",
  });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain("platform darwin/arm64 is not one the images can be built for");
});
