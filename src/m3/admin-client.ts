/**
 * Client of the m3coordinator admin API: placements and m3msg topics.
 * Only the calls the fixture needs, each one request, no retries (callers
 * decide what is worth retrying).
 */
import { httpJson, httpRequest } from "../util/http";
import { ENVIRONMENT, ZONE } from "./placement";
import type { PlacementAddRequest, PlacementRemoveRequest, PlacementReplaceRequest } from "./placement-change";
import type { Placement, PlacementInitRequest, PlacementResponse, TopicConsumerService, TopicResponse } from "./types";

/** Services the admin API manages placements for. */
export type PlacementService = "m3aggregator" | "m3coordinator" | "m3db";

/** Client of the m3coordinator admin API: placements and topics. */
export class M3AdminClient {
  /** @param baseUrl e.g. `http://127.0.0.1:7201` */
  constructor(readonly baseUrl: string) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { "Cluster-Environment-Name": ENVIRONMENT, "Cluster-Zone-Name": ZONE, ...extra };
  }

  private placementUrl(service: PlacementService, suffix = ""): string {
    return `${this.baseUrl}/api/v1/services/${service}/placement${suffix}`;
  }

  /** `GET /health`: true when the coordinator answers 200. */
  async isHealthy(): Promise<boolean> {
    try {
      return (await httpRequest("GET", `${this.baseUrl}/health`, { timeoutMs: 2_000 })).status === 200;
    } catch {
      return false;
    }
  }

  /** Creates a placement; 409 if one exists. */
  initPlacement(service: PlacementService, request: PlacementInitRequest): Promise<PlacementResponse> {
    return httpJson("POST", this.placementUrl(service, "/init"), { body: request, headers: this.headers() });
  }

  /** The current placement and its version; rejects with an HttpError 404 when there is none. */
  getPlacement(service: PlacementService): Promise<PlacementResponse> {
    return httpJson("GET", this.placementUrl(service), { headers: this.headers() });
  }

  /**
   * Replaces the placement if its version is still `version` (check-and-set).
   * `force` skips m3's placement validation, as changing cutovers requires.
   */
  setPlacement(service: PlacementService, placement: Placement, version: number, force = false): Promise<PlacementResponse> {
    return httpJson("POST", this.placementUrl(service, "/set"), {
      body: { placement, version, confirm: true, force },
      headers: this.headers(),
    });
  }

  /** Adds instances (`POST …/placement`, not `/add`); resolves with the new placement. */
  addInstances(service: PlacementService, request: PlacementAddRequest): Promise<PlacementResponse> {
    return httpJson("POST", this.placementUrl(service), { body: request, headers: this.headers() });
  }

  /** Removes instances (`POST …/placement/remove`, which, unlike `DELETE …/{id}`, leaves etcd keys alone). */
  removeInstances(service: PlacementService, request: PlacementRemoveRequest): Promise<PlacementResponse> {
    return httpJson("POST", this.placementUrl(service, "/remove"), { body: request, headers: this.headers() });
  }

  /** Replaces instances (`POST …/placement/replace`). */
  replaceInstances(service: PlacementService, request: PlacementReplaceRequest): Promise<PlacementResponse> {
    return httpJson("POST", this.placementUrl(service, "/replace"), { body: request, headers: this.headers() });
  }

  /** Deletes the whole placement of a service. */
  async deletePlacement(service: PlacementService): Promise<void> {
    await httpJson("DELETE", this.placementUrl(service), { headers: this.headers() });
  }

  /** Creates an m3msg topic. */
  initTopic(topic: string, numberOfShards: number): Promise<TopicResponse> {
    return httpJson("POST", `${this.baseUrl}/api/v1/topic/init`, {
      body: { numberOfShards },
      headers: this.headers({ "Topic-Name": topic }),
    });
  }

  /** Adds a consumer service to an m3msg topic. */
  addTopicConsumer(topic: string, consumerService: TopicConsumerService): Promise<TopicResponse> {
    return httpJson("POST", `${this.baseUrl}/api/v1/topic`, {
      body: { consumerService },
      headers: this.headers({ "Topic-Name": topic }),
    });
  }

  /** An m3msg topic and its version. */
  getTopic(topic: string): Promise<TopicResponse> {
    return httpJson("GET", `${this.baseUrl}/api/v1/topic`, { headers: this.headers({ "Topic-Name": topic }) });
  }
}
