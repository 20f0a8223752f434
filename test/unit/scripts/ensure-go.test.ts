/**
 * scripts/ensure-go.sh on a PATH without Go, against a module proxy and checksum database served on
 * 127.0.0.1 by this test: a toolchain zip whose h1 record matches is installed and used; one whose
 * record differs is refused and nothing is installed; a Go on PATH that is new enough is used as is.
 * The expected h1 is computed here from Go's dirhash definition (sha256 over "<sha256>  <name>\n"
 * lines of the sorted file names), independently of the script.
 */
import { createHash } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const script = path.resolve(__dirname, "../../../scripts/ensure-go.sh");
const VERSION = "go9.99.0";
const ARCH = ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch] ?? process.arch;
const MOD_VER = `v0.0.1-${VERSION}.linux-${ARCH}`;
const PREFIX = `golang.org/toolchain@${MOD_VER}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-ensure-go-"));

/** A fake toolchain: bin/go answers `go env GOVERSION` and `go version`. */
const files: Record<string, string> = {
  "bin/go": `#!/bin/sh\nif [ "$1" = env ]; then echo ${VERSION}; else echo "go version ${VERSION} fake"; fi\n`,
  "VERSION": `${VERSION}\n`,
  "src/readme.txt": "not a real Go\n",
};

function h1(entries: Record<string, string>): string {
  const lines = Object.keys(entries).map((name) => `${PREFIX}/${name}`).sort()
    .map((full) => `${createHash("sha256").update(entries[full.slice(PREFIX.length + 1)]!).digest("hex")}  ${full}\n`).join("");
  return `h1:${createHash("sha256").update(lines).digest("base64")}`;
}

let zipBytes: Buffer;
let record = "";
let server: http.Server;
let proxy = "";
const requests: string[] = [];

beforeAll(async () => {
  const tree = path.join(work, "tree");
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(tree, PREFIX, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode: name === "bin/go" ? 0o755 : 0o644 });
  }
  const zipped = spawnSync("zip", ["-qr", path.join(work, "t.zip"), PREFIX], { cwd: tree });
  if (zipped.status !== 0) throw new Error(`zip failed: ${zipped.stderr}`);
  zipBytes = fs.readFileSync(path.join(work, "t.zip"));
  server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === `/golang.org/toolchain/@v/${MOD_VER}.zip`) return void res.end(zipBytes);
    if (req.url === `/sumdb/sum.golang.org/lookup/golang.org/toolchain@${MOD_VER}`) return void res.end(record);
    res.statusCode = 404;
    res.end("not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(work, { recursive: true, force: true });
});

/** PATH of the system tools only: no Go on it (checked). */
const NO_GO_PATH = "/usr/bin:/bin";

/** Runs the script asynchronously: the proxy answering it lives in this process. */
function ensureGo(cache: string, extraPath = ""): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [script], {
      env: { HOME: work, PATH: `${extraPath}${NO_GO_PATH}`, GOPROXY: `${proxy},direct`, GOSUMDB: "sum.golang.org", M3AGG_GO_VERSION: VERSION, M3AGG_GO_CACHE: cache },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    child.once("close", (status) => resolve({ status, stdout: stdout.trim(), stderr }));
  });
}

test("the PATH used has no go", () => {
  expect(spawnSync("bash", ["-c", "command -v go"], { env: { HOME: work, PATH: NO_GO_PATH } }).status).not.toBe(0);
});

test("a toolchain whose files match the checksum database's h1 record is installed, and then reused", async () => {
  record = `12345\ngolang.org/toolchain ${MOD_VER} ${h1(files)}\ngolang.org/toolchain ${MOD_VER}/go.mod h1:AAAA=\n\ngo.sum database tree\n`;
  const cache = path.join(work, "cache-ok");
  const first = await ensureGo(cache);
  expect(first.stderr).toContain(`fetching golang.org/toolchain@${MOD_VER} from ${proxy}`);
  expect(first.stderr).toContain(`verified: ${h1(files)}`);
  expect(first.status).toBe(0);
  expect(first.stdout).toBe(path.join(cache, `${VERSION}.linux-${ARCH}`, "bin"));
  expect(spawnSync(path.join(first.stdout, "go"), ["version"], { encoding: "utf8" }).stdout.trim()).toBe(`go version ${VERSION} fake`);

  const before = requests.length;
  const second = await ensureGo(cache);
  expect(second).toMatchObject({ status: 0, stdout: first.stdout });
  expect(requests.length).toBe(before); // cached: no download, no lookup
});

test("a zip that does not match the record is refused and nothing is installed", async () => {
  record = `12345\ngolang.org/toolchain ${MOD_VER} ${h1({ ...files, "VERSION": "tampered\n" })}\n`;
  const cache = path.join(work, "cache-bad");
  const result = await ensureGo(cache);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("does not match the checksum database");
  expect(fs.existsSync(path.join(cache, `${VERSION}.linux-${ARCH}`))).toBe(false);
});

test("no record for the version: refused", async () => {
  record = "12345\n";
  const result = await ensureGo(path.join(work, "cache-none"));
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("has no h1 record");
});

test("a go on PATH that is new enough is used without any download", async () => {
  const bin = path.join(work, "fake-go-bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, "go"), "#!/bin/sh\necho go9.99.0\n", { mode: 0o755 });
  const before = requests.length;
  const result = await ensureGo(path.join(work, "cache-path"), `${bin}:`);
  expect(result).toMatchObject({ status: 0, stdout: bin });
  expect(requests.length).toBe(before);
});
