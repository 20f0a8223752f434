/** Real metrics in: m3's raw TCP protocol (zigzag-varint framed protobuf). */
export { M3IngestClient, type IngestClientOptions, type PlacementSource } from "./client";
export { encodeFrame, encodePayload, zigzagVarint, IngestEncoder, type EncodeOptions, type Metric, type MetricPolicy } from "./encoder";
export type { ConnectionStats } from "./connection";
export { ShardRouter } from "./router";
export { murmur3 } from "./murmur3";
export { parseStoragePolicy, aggregationId, AGGREGATION_TYPES, InvalidMetricError, type StoragePolicyNanos, type AggregationTypeName, type MetricKind } from "./policy";
