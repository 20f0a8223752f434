import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseImageInputs } from "../../../src/m3/image-inputs";
import { checkNode, compareVersions, desktopHostNetworkingSetting, dockerPlatform, leftoverResult, requiredGo } from "../../../src/doctor/checks";

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
    expect(leftoverResult({ orphanContainers: [], staleReservations: [], staleLocks: [], staleClusterDirs: [] }).status).toBe("ok");
    expect(leftoverResult({ orphanContainers: ["a", "b"], staleReservations: [20001], staleLocks: [], staleClusterDirs: ["c"] }))
      .toMatchObject({ status: "warn", detail: "2 orphan containers, 1 stale port reservations, 1 folders of removed clusters", fix: expect.stringContaining("doctor --fix") });
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
