/**
 * A real OCI registry on 127.0.0.1 for push tests: the CNCF Distribution registry v3.1.2, built
 * from the Go module proxy by images/build-registry.sh (cached by input hash), run as a process
 * with its storage in a temporary folder. Docker treats registries on 127.0.0.0/8 as insecure, so
 * push and pull need no TLS. stop() kills it and deletes its storage; the process is also killed
 * when this process exits, whatever path it takes.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import { freePort } from "./helpers";
import * as os from "node:os";
import * as path from "node:path";
import { poll } from "../../src/util/poll";

const ROOT = path.resolve(__dirname, "../..");

export interface LocalRegistry {
  /** `127.0.0.1:<port>` */
  address: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Everything the registry logged so far (its access log included). */
  log(): string;
  stop(): Promise<void>;
}

/** Builds (or finds) the registry binary; returns its path and how long that took. */
export function buildRegistry(): { binary: string; ms: number } {
  const t0 = Date.now();
  const out = execFileSync("bash", [path.join(ROOT, "images/build-registry.sh")], { stdio: ["ignore", "pipe", "inherit"], timeout: 30 * 60_000 });
  return { binary: out.toString().trim().split("\n").pop() as string, ms: Date.now() - t0 };
}

export async function startRegistry(binary: string): Promise<LocalRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-registry-"));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  fs.writeFileSync(path.join(dir, "config.yml"), [
    "version: 0.1",
    "log:",
    "  level: info",
    "storage:",
    `  filesystem: { rootdirectory: ${path.join(dir, "data")} }`,
    "  delete: { enabled: true }",
    "http:",
    `  addr: ${address}`,
    "",
  ].join("\n"));
  const logFile = path.join(dir, "registry.log");
  const out = fs.openSync(logFile, "w");
  const child: ChildProcess = spawn(binary, ["serve", path.join(dir, "config.yml")], {
    stdio: ["ignore", out, out],
    env: { ...process.env, OTEL_TRACES_EXPORTER: "none" }, // no trace exporter dialling out
  });
  fs.closeSync(out);
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) => child.once("exit", (code) => { exited = code; resolve(); }));
  const stop = async () => {
    process.removeListener("exit", kill);
    if (exited === undefined) {
      child.kill("SIGTERM");
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      if (exited === undefined) { child.kill("SIGKILL"); await gone; }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The v2 API's base endpoint answers 200 once the registry serves.
    await poll(async () => {
      if (exited !== undefined) throw new Error(`registry ${binary} exited with ${exited} before serving on ${address}: ${log().slice(-1000)}`);
      const answer = await fetch(`http://${address}/v2/`).catch(() => undefined);
      return answer?.status === 200 ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100, what: `registry on ${address} to answer GET /v2/ with 200` });
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, url: `http://${address}`, log, stop };
}
