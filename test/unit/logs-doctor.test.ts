import { parseArgs, parseSince } from "../../src/cli/args";
import { formatLogLine, renderLogLine } from "../../src/util/log-render";
import { demux } from "../../src/docker/follow-logs";
import { parseImageInputs } from "../../src/docker/image-inputs";
import { checkNode, compareVersions, desktopHostNetworkingSetting, dockerPlatform, leftoverResult, requiredGo } from "../../src/doctor/checks";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

describe("logs arguments", () => {
  it("parses --follow/-f, --raw, --since and a component", () => {
    expect(parseArgs(["logs", "-f", "m3aggregator01", "--raw"], {})).toMatchObject({ command: "logs", component: "m3aggregator01", follow: true, raw: true });
    expect(parseArgs(["logs", "--follow", "--tail", "3"], {})).toMatchObject({ follow: true, tail: 3, component: undefined });
  });

  it("--since takes a duration ago or an RFC 3339 time, as Unix seconds", () => {
    const now = Date.parse("2026-12-01T13:00:00Z");
    expect(parseSince("30s", now)).toBe(String(now / 1000 - 30));
    expect(parseSince("5m", now)).toBe(String(now / 1000 - 300));
    expect(parseSince("2h", now)).toBe(String(now / 1000 - 7200));
    expect(parseSince("2026-12-01T12:00:00Z", now)).toBe(String(now / 1000 - 3600));
    expect(() => parseSince("yesterday", now)).toThrow('--since "yesterday": expected a duration');
  });

  it("doctor takes --fix and --json only", () => {
    expect(parseArgs(["doctor", "--fix", "--json"], {})).toEqual({ command: "doctor", fix: true, json: true });
    expect(() => parseArgs(["doctor", "--all"], {})).toThrow('unknown flag "--all"');
  });
});

describe("log rendering", () => {
  it("renders a zap JSON line of m3 (epoch ts) as time level msg key=value", () => {
    const line = '{"level":"info","ts":1764594123.456,"msg":"election state changed from follower to leader","shardSetId":1,"reason":"a b"}';
    expect(renderLogLine(line)).toEqual({ level: "info", text: '13:02:03.456 INFO  election state changed from follower to leader shardSetId=1 reason="a b"' });
  });

  it("renders etcd's ISO timestamps and keeps other lines as they are", () => {
    expect(renderLogLine('{"level":"warn","ts":"2026-12-01T13:02:03.456Z","caller":"x.go:1","msg":"slow"}').text).toBe("13:02:03.456 WARN  slow caller=x.go:1");
    expect(renderLogLine("plain text").text).toBe("plain text");
    expect(renderLogLine("{not json}").text).toBe("{not json}");
  });

  it("prefixes the component, colored only when asked", () => {
    const line = { component: "etcd", raw: "x", text: "x", level: "error" };
    expect(formatLogLine(line, { width: 14, colorIndex: 0, color: false })).toBe("etcd           | x");
    expect(formatLogLine(line, { width: 4, colorIndex: 0, color: true })).toBe("\u001b[36metcd |\u001b[0m \u001b[31mx\u001b[0m");
  });

  it("demultiplexes Docker's framed log format (stdout and stderr frames, a line split over frames)", () => {
    const frame = (stream: number, text: string) => Buffer.concat([Buffer.from([stream, 0, 0, 0]),
      (() => { const b = Buffer.alloc(4); b.writeUInt32BE(Buffer.byteLength(text)); return b; })(), Buffer.from(text)]);
    expect(demux(Buffer.concat([frame(1, "one\ntw"), frame(2, "o\nthree\n")]))).toEqual(["one", "two", "three"]);
    expect(demux(Buffer.from("tty a\ntty b\n"))).toEqual(["tty a", "tty b"]);
  });
});

describe("doctor pieces", () => {
  it("parses build.sh --list-inputs lines and rejects anything else", () => {
    const inputs = parseImageInputs("v1.6.0 m3agg-local/m3aggregator:v1.6.0 89d9939f6aa4418f\nv1.6.0 m3agg-local/m3aggregator-debug:v1.6.0 da4ccbe9cbb2e796\n", "v1.6.0");
    expect(inputs).toEqual([
      { m3Version: "v1.6.0", tag: "m3agg-local/m3aggregator:v1.6.0", hash: "89d9939f6aa4418f", debug: false, defaultVersion: "v1.6.0" },
      { m3Version: "v1.6.0", tag: "m3agg-local/m3aggregator-debug:v1.6.0", hash: "da4ccbe9cbb2e796", debug: true, defaultVersion: "v1.6.0" },
    ]);
    expect(() => parseImageInputs("[images 2s] images ready", "v1.6.0")).toThrow("unexpected line");
  });

  it("names Docker's platform the way images are built for", () => {
    expect(dockerPlatform("linux", "x86_64")).toBe("linux/amd64");
    expect(dockerPlatform("linux", "aarch64")).toBe("linux/arm64");
  });

  it("fails a Node older than 22.22 with a fix, passes 22.22 and 24", () => {
    expect(checkNode("20.19.0")).toMatchObject({ status: "fail", fix: expect.stringContaining("Node 22.22+") });
    expect(checkNode("22.22.0").status).toBe("ok");
    expect(checkNode("24.1.0").status).toBe("ok");
  });

  it("reads Docker Desktop's host-networking keys from its settings file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-desktop-"));
    const file = path.join(dir, "settings-store.json");
    fs.writeFileSync(file, JSON.stringify({ HostNetworkingEnabled: true, MemoryMiB: 8092 }));
    expect(desktopHostNetworkingSetting([path.join(dir, "missing.json"), file])).toEqual({ file, keys: { HostNetworkingEnabled: true } });
    expect(desktopHostNetworkingSetting([path.join(dir, "missing.json")])).toBeUndefined();
    fs.rmSync(dir, { recursive: true });
  });

  it("reports leftovers with how to sweep them", () => {
    expect(leftoverResult({ orphanContainers: [], staleReservations: [], staleLocks: [], staleTlsFolders: [] }).status).toBe("ok");
    expect(leftoverResult({ orphanContainers: ["a", "b"], staleReservations: [20001], staleLocks: [], staleTlsFolders: ["c"] }))
      .toMatchObject({ status: "warn", detail: "2 orphan containers, 1 stale port reservations, 1 TLS folders of removed clusters", fix: expect.stringContaining("doctor --fix") });
  });
});

describe("doctor: the Go the images need", () => {
  it("is the highest go directive of images/go/*/go.mod", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-gomods-"));
    for (const [name, v] of [["a", "1.22"], ["b", "1.26.0"], ["c", "1.25.3"]] as const) {
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, "go.mod"), `module x\n\ngo ${v}\n`);
    }
    expect(requiredGo(dir)).toBe("1.26.0");
    expect(compareVersions("1.26.8", "1.26.0")).toBeGreaterThan(0);
    expect(compareVersions("1.9", "1.26")).toBeLessThan(0);
    fs.rmSync(dir, { recursive: true });
  });
});
