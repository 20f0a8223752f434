/**
 * Is the process that owns a lock, a reservation or a container still alive? A bare pid is not
 * enough: pids are reused. An owner is named by its pid, the process's start time (field 22 of
 * /proc/<pid>/stat, clock ticks since boot: a reused pid has another) and where it runs: the host
 * name and the pid namespace (/proc/self/ns/pid). An owner of another host or namespace cannot be
 * checked from here and counts as alive.
 */
import * as fs from "node:fs";
import * as os from "node:os";

/** True when a process with this pid runs (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Start time of process `pid` (field 22 of /proc/<pid>/stat, in clock ticks since boot), or
 * undefined where there is no /proc (macOS) or no such process. The command name (field 2) may
 * hold spaces and parentheses, so fields are counted after its last ')'.
 */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields[0] is field 3 (state)
  return fields[22 - 3];
}

/** The pid namespace of this process (`pid:[4026531836]`), or "" where there is none to read. */
function pidNamespace(): string {
  try {
    return fs.readlinkSync("/proc/self/ns/pid");
  } catch {
    return "";
  }
}

/** Who owns something: enough to tell later whether that process still runs. */
export interface ProcessIdentity {
  pid: number;
  /** {@link processStartTime} of the pid when the record was made ("" where unknown). */
  start: string;
  /** `os.hostname()`. */
  host: string;
  /** The pid namespace ("" where unknown). */
  ns: string;
}

let self: ProcessIdentity | undefined;

/** This process. */
export function selfIdentity(): ProcessIdentity {
  self ??= { pid: process.pid, start: processStartTime(process.pid) ?? "", host: os.hostname(), ns: pidNamespace() };
  return self;
}

/**
 * False only when the owner is known to be gone: same host and pid namespace, and either no
 * process has the pid or the one that has it started at another time (the pid was reused).
 * Records without a start time (older ones) are judged by the pid alone.
 */
export function ownerAlive(owner: Partial<ProcessIdentity>): boolean {
  const me = selfIdentity();
  if (owner.host !== me.host) return true; // another machine: cannot tell
  if (owner.ns !== undefined && owner.ns !== "" && me.ns !== "" && owner.ns !== me.ns) return true; // another pid namespace
  const pid = Number(owner.pid);
  if (!Number.isInteger(pid) || pid <= 0) return true; // unreadable: do not judge
  if (!processAlive(pid)) return false;
  if (owner.start === undefined || owner.start === "") return true;
  const now = processStartTime(pid);
  return now === undefined || now === owner.start;
}
