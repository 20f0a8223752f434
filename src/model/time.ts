/** Durations as m3 writes them: nanosecond integers, and the unit suffixes of its policy strings. */

/** Nanoseconds per unit of m3's duration suffixes (`10s`, `2d`, `1y` = 365 days). */
export const NANOS_PER_UNIT = {
  ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
  d: 86_400_000_000_000n, y: 365n * 86_400_000_000_000n,
} as const;

/** A unit suffix of m3's durations. */
export type DurationUnit = keyof typeof NANOS_PER_UNIT;

/** The units, largest first (m3 writes a duration in the largest unit that divides it). */
export const UNITS_LARGEST_FIRST: ReadonlyArray<[bigint, DurationUnit]> = (Object.entries(NANOS_PER_UNIT) as Array<[DurationUnit, bigint]>)
  .map(([unit, nanos]): [bigint, DurationUnit] => [nanos, unit])
  .sort((a, b) => (a[0] > b[0] ? -1 : a[0] < b[0] ? 1 : 0));
