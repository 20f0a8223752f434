/** Name of the global that the fixture's jest environment increments on every failed test or hook. */
export const FAILURE_COUNTER = "__M3AGG_FAILURES__";

/** Failures counted so far in this test file (0 without the fixture's jest environment). */
export function failuresSoFar(): number {
  return (globalThis as unknown as Record<string, number | undefined>)[FAILURE_COUNTER] ?? 0;
}
