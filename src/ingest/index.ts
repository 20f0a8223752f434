/** Real metrics in: m3's raw TCP protocol (zigzag-varint framed protobuf). */
export { M3IngestClient, DeliveryError, type IngestClientOptions, type PlacementSource, type DeliveryReport, type EndpointReport } from "./client";
export { InvalidClientOptionError, DEFAULT_MAX_MESSAGE_BYTES } from "./options";
export { encodeFrame, encodePayload, zigzagVarint, IngestEncoder, type EncodeOptions, type Metric, type MetricPolicy } from "./encoder";
export { TlsCertificateError, type ConnectionStats, type ConnectionState } from "./connection";
export { ShardRouter, DEFAULT_SHARD_CUTOVER_WARMUP_MS, DEFAULT_SHARD_CUTOFF_LINGER_MS, type ShardOwner } from "./router";
export { murmur3 } from "./murmur3";
export { parseStoragePolicy, aggregationId, AGGREGATION_TYPES, InvalidMetricError, type StoragePolicyNanos, type AggregationTypeName, type MetricKind } from "./policy";
