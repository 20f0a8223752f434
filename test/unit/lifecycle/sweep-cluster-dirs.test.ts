/**
 * The orphan sweep's rule for cluster folders (private keys, mounted configs): a folder goes once its cluster is gone —
 * no container with the id, no live holder of the cluster's id lock, and its owner process dead
 * (or, for a folder without an owner record, older than 15 minutes). Docker's answer is the input.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { containersWithLabel } from "../../../src/docker/client";
import { clusterLockName } from "../../../src/lifecycle/claim";
import { sweepClusterDirs } from "../../../src/lifecycle/sweep";
import { tryLock } from "../../../src/util/file-lock";
import { selfIdentity } from "../../../src/util/process-alive";

jest.mock("../../../src/docker/client", () => ({ containersWithLabel: jest.fn(), removeContainers: jest.fn() }));
const listed = containersWithLabel as jest.MockedFunction<typeof containersWithLabel>;

// The cluster and lock folders of this test only (never the machine's own: other clusters' keys live there).
let root: string;
let locks: string;
beforeEach(() => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-sweep-dirs-"));
  root = path.join(tmp, "clusters");
  locks = path.join(tmp, "locks");
  fs.mkdirSync(root);
  listed.mockReset();
  listed.mockResolvedValue([]);
});
afterEach(() => fs.rmSync(path.dirname(root), { recursive: true, force: true }));

const deadPid = (): number => Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);

/** A cluster folder as a start leaves it, made `ageMs` ago, owned by `owner` (none: an older version's). */
function folder(id: string, owner: object | undefined, ageMs = 60_000): string {
  const dir = path.join(root, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "client-key.pem"), "key");
  if (owner !== undefined) fs.writeFileSync(path.join(dir, "owner.json"), JSON.stringify(owner));
  const at = new Date(Date.now() - ageMs);
  fs.utimesSync(dir, at, at);
  return dir;
}

test("removes folders of dead owners' clusters; keeps those with containers, a live id lock, a live owner, or too young", async () => {
  const me = selfIdentity();
  const dead = { ...me, pid: deadPid() };
  const gone = folder("gone", dead);
  const running = folder("running", dead);
  const claimed = folder("claimed", dead);
  const mine = folder("mine", me);
  const oldUnowned = folder("old-unowned", undefined, 20 * 60_000);
  const youngUnowned = folder("young-unowned", undefined, 60_000);
  listed.mockResolvedValue([{ id: "c1", name: "etcd", state: "running", labels: { "org.m3agg.cluster": "running" } }]);
  const lock = tryLock(clusterLockName("claimed"), locks); // a start of that id under way
  try {
    expect((await sweepClusterDirs(root, locks)).sort()).toEqual([gone, oldUnowned].sort());
  } finally {
    if ("release" in lock) lock.release();
  }
  for (const kept of [running, claimed, mine, youngUnowned]) expect(fs.existsSync(kept)).toBe(true);
  for (const removed of [gone, oldUnowned]) expect(fs.existsSync(removed)).toBe(false);
});

test("Docker is not asked when there is no cluster folder", async () => {
  expect(await sweepClusterDirs(root, locks)).toEqual([]);
  expect(listed).not.toHaveBeenCalled();
});
