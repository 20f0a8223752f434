/**
 * m3-aggregator-testcontainers: a real M3 aggregator cluster (etcd,
 * m3coordinator, m3aggregator nodes) inside your tests.
 */
import "./node-version"; // first: a clear error on a too-old Node instead of undici's TypeError
export { M3AggregatorCluster, StartedM3AggregatorCluster, instanceIdOf, type StartupTimings } from "./cluster";
export { InvalidOptionError, resolveOptions, DEFAULTS, type ProgressEvent, type M3AggregatorClusterOptions, type ResolvedClusterOptions, type FlushBackend, type LogLevel, type ImageNames } from "./options";
export { planPorts, seedNodePorts, PortInUseError, LOOPBACK, type PortPlan, type NodePorts } from "./ports";
export { ClusterStartError, type StartPhase, type LogTail } from "./errors";
export { M3AdminClient, type PlacementService } from "./admin/admin-client";
export { buildPlacementInitRequest, isolationGroupOf, shardSetsOf, withImmediateCutover } from "./admin/placement";
export type * from "./admin/types";
export { AggregatorApi, type AggregatorStatus, type ElectionState } from "./aggregator-api";
export { StartedM3AggregatorNode } from "./containers/m3aggregator";
export { StartedM3CoordinatorContainer } from "./containers/m3coordinator";
export { StartedEtcdContainer } from "./containers/etcd";
export { type ShardSetElection, describeElection } from "./readiness";
export { sendRaw } from "./raw-lines";
export { resolveImages, IMAGE_ENV_VARS, type ResolvedImage, type ImageSource } from "./images";
export { supportedM3Versions, defaultM3Version, type M3Version } from "./m3/versions";
export { SourceBuildError } from "./m3/source-build";
export type { ClusterTls } from "./tls/material";
export type { TlsMode, TlsOption, TlsSettings } from "./tls/settings";
export { DockerUnavailableError, containersWithLabel } from "./docker";
export { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE } from "./labels";
export { useM3AggregatorCluster, globalSuiteHooks, type ClusterHandle, type SuiteHooks } from "./jest";
export { sharedClusterSetup, sharedClusterTeardown, useSharedM3AggregatorCluster, SHARED_CLUSTER_ENV } from "./jest-global";
export { attachCluster, AttachError } from "./attach";
export { ControllableContainer, type ContainerState } from "./containers/controllable";
export { delveCall, delveContinue } from "./debug/delve-client";
export type { DebugOptions } from "./options";
export * from "./ingest";
export * from "./load";
export * from "./sink";
