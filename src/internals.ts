/**
 * "m3-aggregator-testcontainers/internals": the building blocks the package uses itself, for
 * tools and tests that need them (the CLI, leak checks, codecs). No stability promise: these
 * follow the package's inner structure and may change in any release.
 */
import "./util/node-version";

export { instanceIdOf, planCluster, planNode, containerSpecs, encodePlanLabel, decodePlanLabel, etcdArgs } from "./plan/plan";
export { createPlacement } from "./m3/create-placement";
export { resolveOptions, DEFAULTS } from "./cluster/options";
export { describeElection, readElection, waitForElection, isElectionSettled } from "./cluster/readiness";
export { teardown } from "./lifecycle/live";
export { planPorts, seedNodePorts } from "./ports";
export { LOOPBACK } from "./model/network";
export { buildPlacementInitRequest, isolationGroupOf, shardSetsOf, withImmediateCutover } from "./m3/placement";
export { AggregatorApi } from "./m3/aggregator-api";
export {
  buildAddRequest, buildRemoveRequest, buildReplaceRequest, exactlyOnceViolations, fastChangeTimeMs, finalizedPlacement, movingShards,
  nextInstanceIds, pendingChangeTimeMs, summarizeShardStates, windowFlusher, withChangeTime,
} from "./m3/placement-change";
export { readFlushTimes, decodeShardSetFlushTimes, hasFlushedThrough } from "./m3/flush-times";
export { resolveImages } from "./docker/images";
export { IMAGE_ENV_VARS } from "./model/environment";
export { containersWithLabel } from "./docker/client";
export { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE, LABEL_PLAN } from "./model/labels";
export { delveCall } from "./debug/delve-client";
export { ShardRouter } from "./ingest/router";
export { murmur3 } from "./ingest/murmur3";
export { encodePayload, zigzagVarint } from "./ingest/encoder";
export { parseStoragePolicy, aggregationId, AGGREGATION_TYPES } from "./ingest/policy";
export { resolveLoadOptions } from "./load/run";
export { parsePrometheusText } from "./m3/prometheus";
export {
  FrameReader, decodeAggregatedMetric, decodeMessage, encodeAck, decodeAck, encodeMessage, encodeAggregatedMetric, formatDuration,
} from "./sink/codec";
export { poll, PollTimeoutError } from "./util/poll";

/** The Kubernetes orphan sweep: deletes m3agg namespaces of dead owner processes (start() runs it too). */
export { sweepClusterNamespaces } from "./kube/namespaces";
export { KubeApi } from "./kube/api";
