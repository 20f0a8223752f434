/**
 * Which ports the fixture may hand out: unprivileged ports outside the
 * kernel's ephemeral range. The kernel picks a port-0 bind and the local port
 * of every outgoing connection from that range, so a port outside it can only
 * be taken by a program that asks for that very number.
 */
import * as fs from "node:fs";
import { portRangeSetting } from "../model/environment";

/** An inclusive range of port numbers. */
export interface PortRange {
  from: number;
  to: number;
}

/**
 * Defaults when the kernel cannot be asked: Linux's own default
 * (`net.ipv4.ip_local_port_range` = 32768 60999) and the IANA dynamic range
 * 49152–65535 that macOS, Windows and FreeBSD use.
 */
export const DEFAULT_EPHEMERAL_RANGE: Readonly<Record<"linux" | "other", PortRange>> = {
  linux: { from: 32768, to: 60999 },
  other: { from: 49152, to: 65535 },
};

/** Default pool before the ephemeral range is cut out: above the crowded low ports of well-known services. */
export const DEFAULT_POOL: Readonly<PortRange> = { from: 10000, to: 65535 };

const PROC_RANGE = "/proc/sys/net/ipv4/ip_local_port_range";

/**
 * The kernel's ephemeral port range: read from `/proc/sys/net/ipv4/ip_local_port_range` on Linux
 * (containers in host network mode share it), else the platform's documented default.
 */
export function ephemeralPortRange(procFile = PROC_RANGE, platform: NodeJS.Platform = process.platform): PortRange {
  try {
    const [from, to] = fs.readFileSync(procFile, "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(from) && Number.isInteger(to) && (from as number) >= 1 && (from as number) <= (to as number) && (to as number) <= 65535) {
      return { from: from as number, to: to as number };
    }
  } catch {
    // not Linux, or /proc not mounted: fall back to the documented default
  }
  return { ...(platform === "linux" ? DEFAULT_EPHEMERAL_RANGE.linux : DEFAULT_EPHEMERAL_RANGE.other) };
}

/**
 * Parses `M3AGG_PORT_RANGE` ("20000-29999"). Throws naming the value and the rule when it is malformed.
 */
export function parsePortRange(text: string, name = "M3AGG_PORT_RANGE"): PortRange {
  const match = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (match === null || from < 1024 || to > 65535 || from > to) {
    throw new Error(`${name}=${JSON.stringify(text)} is not a port range: expected "FROM-TO" with 1024 ≤ FROM ≤ TO ≤ 65535`);
  }
  return { from, to };
}

/** The pool: `M3AGG_PORT_RANGE` when set, else {@link DEFAULT_POOL}. */
function portPool(): PortRange {
  const setting = portRangeSetting();
  return setting === undefined ? DEFAULT_POOL : parsePortRange(setting);
}

/**
 * The ranges ports are allocated from: `pool` (default {@link DEFAULT_POOL}, or `M3AGG_PORT_RANGE`)
 * minus the ephemeral range. Throws when nothing is left.
 */
export function allocatablePortRanges(
  ephemeral: PortRange = ephemeralPortRange(),
  pool: PortRange = portPool(),
): PortRange[] {
  const ranges: PortRange[] = [];
  if (pool.from < ephemeral.from) ranges.push({ from: pool.from, to: Math.min(pool.to, ephemeral.from - 1) });
  if (pool.to > ephemeral.to) ranges.push({ from: Math.max(pool.from, ephemeral.to + 1), to: pool.to });
  if (ranges.length === 0) {
    throw new Error(`no port left to allocate: the pool ${pool.from}-${pool.to} lies inside the kernel's ephemeral range ` +
      `${ephemeral.from}-${ephemeral.to}; set M3AGG_PORT_RANGE to a range outside it`);
  }
  return ranges;
}
