/**
 * What the admin API needs so the aggregators' m3msg producer finds the sink:
 * a placement for the consumer service (the admin API only manages m3db,
 * m3aggregator and m3coordinator, so the sink registers as m3coordinator; that
 * placement is non-sharded, hence SHARED consumption), and the topic with the
 * consumer service. All must exist before an aggregator starts: it exits when
 * the topic or a consumer placement is missing (2 s watches).
 */
import type { M3AdminClient } from "./admin-client";
import { ENVIRONMENT, ZONE } from "./placement";
import type { PlacementInitRequest, TopicConsumerService } from "./types";

/** Instance id of the sink in the consumer placement. */
export const SINK_INSTANCE_ID = "m3agg-sink";
/** Shards of the flush topic (m3's shipped configs use 64). */
export const SINK_TOPIC_SHARDS = 64;

/** The consumer placement: one non-sharded instance whose endpoint is the sink. */
export function sinkPlacementRequest(endpoint: string, port: number): PlacementInitRequest {
  return {
    replication_factor: 1,
    instances: [{ id: SINK_INSTANCE_ID, isolation_group: "sink", zone: ZONE, weight: 1, endpoint, hostname: SINK_INSTANCE_ID, port }],
  };
}

/** The topic's consumer service: SHARED; unacked messages are dropped after `messageTtlMs` (0 = never). */
export function sinkConsumerService(messageTtlMs = 600_000): TopicConsumerService {
  return {
    serviceId: { name: "m3coordinator", environment: ENVIRONMENT, zone: ZONE },
    consumptionType: "SHARED",
    messageTtlNanos: String(BigInt(messageTtlMs) * 1_000_000n),
  };
}

/** Creates the consumer placement and the topic with the sink as its consumer. */
export async function registerSink(admin: M3AdminClient, topic: string, endpoint: string, port: number): Promise<void> {
  await admin.initPlacement("m3coordinator", sinkPlacementRequest(endpoint, port));
  await admin.initTopic(topic, SINK_TOPIC_SHARDS);
  await admin.addTopicConsumer(topic, sinkConsumerService());
}
