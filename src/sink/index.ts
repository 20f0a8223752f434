/** The sink: aggregated output of the cluster, received over m3msg in the test process. */
export { M3MsgSink, type SinkStats, type Conflict } from "./sink";
export { type AggregatedDatapoint, type MsgMetadata, FrameReader, decodeAggregatedMetric, decodeMessage, encodeAck, decodeAck, encodeMessage, encodeAggregatedMetric, formatDuration } from "./codec";
