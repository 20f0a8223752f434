import type { M3AggregatorClusterOptions } from "../src/model/options";

/**
 * m3's shipped election intervals (what fixtures/m3aggregator.yml had before it was tuned for tests):
 * the "old configs" of the comparison.
 */
export const OLD_INTERVALS: NonNullable<M3AggregatorClusterOptions["configOverrides"]> = {
  aggregator: {
    aggregator: {
      electionManager: {
        campaignRetrier: { initialBackoff: "100ms", backoffFactor: 2.0, maxBackoff: "2s", forever: true, jitter: true },
        changeRetrier: { initialBackoff: "100ms", backoffFactor: 2.0, maxBackoff: "5s", forever: true, jitter: true },
        resignRetrier: { initialBackoff: "100ms", backoffFactor: 2.0, maxBackoff: "5s", forever: true, jitter: true },
        campaignStateCheckInterval: "1s",
      },
      flushManager: { checkEvery: "1s" },
    },
  },
};
