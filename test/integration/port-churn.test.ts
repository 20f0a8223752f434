/**
 * The short CI version of `npm run bench:stress`: 2 processes × 5 starts of a
 * 4-node rf-2 cluster side by side, while a churn process binds port-0
 * listeners and opens loopback connections throughout. Every start succeeds,
 * and nothing (containers, port reservations) is left behind.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { containersWithLabel } from "../../src/docker/client";
import { LABEL_CLUSTER } from "../../src/model/labels";
import { listReservations } from "../../src/ports";

const STRESS = path.resolve(__dirname, "../../bench/stress.ts");

interface Summary {
  attempted: number;
  succeeded: number;
  retried: number;
  failed: number;
  churnStats: { listeners: number; connections: number; outsideEphemeral: number } | null;
  probes: { portZero: { probes: number; taken: number }; allocator: { probes: number; taken: number } };
}

test("2 processes × 5 starts of 4x2 under port churn: all succeed, nothing left behind", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", STRESS], {
    env: { ...process.env, STRESS_PROCS: "2", STRESS_STARTS: "5", STRESS_NODES: "4", STRESS_RF: "2", STRESS_CHURN: "1", STRESS_MAX_MINUTES: "4" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const last = out.trim().split("\n").pop() ?? "";
  let summary: Summary;
  try {
    summary = JSON.parse(last) as Summary;
  } catch {
    throw new Error(`bench/stress.ts printed no summary (exit ${code}):\n${out}\n${err}`);
  }
  if (summary.failed > 0) console.error(err); // the failed starts' errors
  expect({ attempted: summary.attempted, succeeded: summary.succeeded, failed: summary.failed }).toEqual({ attempted: 10, succeeded: 10, failed: 0 });
  expect(code).toBe(0);
  // The churn really ran, and only ever got ephemeral ports from the kernel.
  expect(summary.churnStats?.listeners).toBeGreaterThan(1_000);
  expect(summary.churnStats?.connections).toBeGreaterThan(1_000);
  expect(summary.churnStats?.outsideEphemeral).toBe(0);
  expect(summary.probes.allocator.taken).toBe(0);
  // Nothing of the stress clusters stays: no container, no reservation.
  const left = (await containersWithLabel(LABEL_CLUSTER)).filter((c) => (c.labels[LABEL_CLUSTER] ?? "").startsWith("stress-"));
  expect(left).toEqual([]);
  expect(listReservations().filter((r) => r.cluster.startsWith("stress-"))).toEqual([]);
}, 240_000);
