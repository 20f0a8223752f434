/**
 * m3-aggregator-testcontainers: a real M3 aggregator cluster (etcd,
 * m3coordinator, m3aggregator nodes) inside your tests.
 */
import "./util/node-version"; // first: a clear error on a too-old Node instead of undici's TypeError
export { M3AggregatorCluster, StartedM3AggregatorCluster, instanceIdOf, type StartupTimings } from "./cluster/start";
export { InvalidOptionError, resolveOptions, DEFAULTS, type ProgressEvent, type M3AggregatorClusterOptions, type ResolvedClusterOptions, type FlushBackend, type LogLevel, type ImageNames } from "./cluster/options";
export { planPorts, seedNodePorts, PortInUseError, LOOPBACK, type PortPlan, type NodePorts } from "./ports";
export { ClusterStartError, type StartPhase, type LogTail } from "./cluster/errors";
export { M3AdminClient, type PlacementService } from "./m3/admin-client";
export { buildPlacementInitRequest, isolationGroupOf, shardSetsOf, withImmediateCutover } from "./m3/placement";
export type * from "./m3/types";
export { AggregatorApi, type AggregatorStatus, type ElectionState } from "./m3/aggregator-api";
export { StartedM3AggregatorNode } from "./containers/m3aggregator";
export { StartedM3CoordinatorContainer } from "./containers/m3coordinator";
export { StartedEtcdContainer } from "./containers/etcd";
export { type ShardSetElection, describeElection } from "./cluster/readiness";
export { sendRaw } from "./util/raw-lines";
export { resolveImages, IMAGE_ENV_VARS, type ResolvedImage, type ImageSource } from "./docker/images";
export { supportedM3Versions, defaultM3Version, type M3Version } from "./m3/versions";
export { SourceBuildError } from "./m3/source-build";
export type { ClusterTls } from "./tls/material";
export type { TlsMode, TlsOption, TlsSettings } from "./tls/settings";
export { DockerUnavailableError, containersWithLabel } from "./docker/client";
export { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE } from "./docker/labels";
export { useM3AggregatorCluster, globalSuiteHooks, type ClusterHandle, type SuiteHooks } from "./jest/helper";
export { sharedClusterSetup, sharedClusterTeardown, useSharedM3AggregatorCluster, SHARED_CLUSTER_ENV } from "./jest/shared-cluster";
export { attachCluster, AttachError } from "./cluster/attach";
export { ControllableContainer, type ContainerState } from "./containers/controllable";
export { delveCall, delveContinue } from "./debug/delve-client";
export type { DebugOptions } from "./cluster/options";
export * from "./ingest";
export * from "./load";
export * from "./sink";
