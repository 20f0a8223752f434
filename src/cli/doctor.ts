/**
 * `m3agg doctor [--fix] [--json]`: every check of doctor/checks.ts, one line each (or one JSON
 * document), how to fix each failed one, exit 0 when nothing failed (warnings pass), 1 otherwise.
 */
import { type CheckResult, runDoctor } from "../doctor/checks";

const MARK: Record<CheckResult["status"], string> = { ok: "ok  ", warn: "WARN", fail: "FAIL" };

export async function doctor(command: { fix: boolean; json: boolean }): Promise<number> {
  const report = await runDoctor({ fix: command.fix });
  if (command.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    for (const c of report.checks) {
      process.stdout.write(`${MARK[c.status]}  ${c.id.padEnd(26)} ${c.detail}\n`);
      if (c.fix !== undefined) process.stdout.write(`      ${"".padEnd(26)} fix: ${c.fix}\n`);
    }
    for (const line of report.fixed) process.stdout.write(`fixed: ${line}\n`);
    process.stdout.write(report.ok ? "\nno blocking problem found\n" : "\nsome checks failed: see fix: above\n");
  }
  return report.ok ? 0 : 1;
}
