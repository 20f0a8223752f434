/**
 * Client of one m3aggregator's HTTP API: /health, /status, /resign.
 * Note m3 answers errors with the body `null`: the status code is all there is.
 */
import { httpJson, httpRequest } from "../util/http";

/** Election state an aggregator reports for its shard set. */
export type ElectionState = "leader" | "follower" | "pendingFollower" | "unknown";

/** `GET /status` of one aggregator. */
export interface AggregatorStatus {
  electionState: ElectionState;
  /**
   * Whether this node could take over now. On m3 v1.5.0 a follower reports
   * false until the leader has persisted its first flush times (i.e. after the
   * first flush of real data); election does not consult it (m3 #4168/#4169).
   */
  canLead: boolean;
}

/** Client of one m3aggregator node's HTTP API: /health, /status, /resign. */
export class AggregatorApi {
  /** @param baseUrl e.g. `http://127.0.0.1:6001` */
  constructor(readonly baseUrl: string) {}

  /** True when `GET /health` answers 200 `{"state":"OK"}` (it says nothing about leadership). */
  async isHealthy(timeoutMs = 2_000): Promise<boolean> {
    try {
      const response = await httpRequest("GET", `${this.baseUrl}/health`, { timeoutMs });
      return response.status === 200 && response.text.includes("OK");
    } catch {
      return false;
    }
  }

  /** Election state and canLead. */
  async status(timeoutMs = 2_000): Promise<AggregatorStatus> {
    const body = await httpJson<{ status?: { flushStatus?: Partial<AggregatorStatus> } }>(
      "GET", `${this.baseUrl}/status`, { timeoutMs });
    const flush = body.status?.flushStatus;
    return { electionState: flush?.electionState ?? "unknown", canLead: flush?.canLead ?? false };
  }

  /**
   * Asks a leader to step down; resolves once another replica leads.
   * m3 blocks until then (up to the aggregator's resignTimeout) and answers 500 on failure.
   */
  async resign(timeoutMs = 65_000): Promise<void> {
    await httpJson("POST", `${this.baseUrl}/resign`, { timeoutMs });
  }
}
