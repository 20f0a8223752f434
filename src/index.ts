/**
 * m3-aggregator-testcontainers: a real M3 aggregator cluster (etcd,
 * m3coordinator, m3aggregator nodes) inside your tests.
 *
 * The public API: the cluster and its handles, options and errors, the ingest client, the sink,
 * the load harness, the jest/vitest helpers. Building blocks the package uses itself (port
 * planning, placement building, labels, codecs) are under "m3-aggregator-testcontainers/internals".
 */
import "./util/node-version"; // first: a clear error on a too-old Node instead of undici's TypeError

// The cluster and its handles
export { M3AggregatorCluster } from "./cluster/start";
export { StartedM3AggregatorCluster } from "./cluster/started";
export { type StartupTimings } from "./model/phases";
export { attachCluster, AttachError } from "./cluster/attach";
export { attachSwarmCluster, removeSwarmStack, StartedSwarmCluster, SwarmNode, type SwarmStartupTimings } from "./cluster/swarm";
export { StartedKubernetesCluster, KubernetesNode, KubernetesStartError, type KubernetesStartPhase } from "./cluster/kubernetes";
/** A load sent from inside a Kubernetes cluster by a Job (`m3agg load --target kubernetes`). */
export { runLoadJob, LoadJobError, type LoadJobRunOptions, type LoadJobResult, type LoadgenReport, type LoadJobPhase } from "./cluster/load-job";
export { KubeClientMissingError } from "./kube/api";
export type { ClusterNode, StartedCluster } from "./cluster/handle";
export type { ClusterPlan, NodePlan, PlanInputs, PlanImages, ContainerSpec, FileSpec, WaitSpec } from "./plan/plan";
export { StartedM3AggregatorNode } from "./containers/m3aggregator";
export { StartedM3CoordinatorContainer } from "./containers/m3coordinator";
export { StartedEtcdContainer } from "./containers/etcd";
export { ControllableContainer, type ContainerState } from "./containers/controllable";
export type { ShardSetElection } from "./cluster/readiness";
export { registerResetStep, ResetError, type ResetOptions, type ResetReport, type ResetStep } from "./cluster/reset";
export type { FollowLogsOptions, LogFollower } from "./docker/follow-logs";
export type { LogLine } from "./util/log-render";
export { TopologyChangeError, TOPOLOGY_PHASES, type TopologyChange, type TopologyOptions, type TopologyPhase } from "./cluster/topology";
export { TopologyBusyError } from "./cluster/topology-request";
export { M3AdminClient, type PlacementService } from "./m3/admin-client";
export type * from "./m3/types";
export type { AggregatorApi, AggregatorStatus, ElectionState } from "./m3/aggregator-api";
export { sendRaw } from "./util/socket";
export { delveContinue } from "./debug/delve-client";

// Network faults (faults: true)
export { FaultsDisabledError, type FaultRecord, type NodeNetwork, type EtcdNetwork, type LinkSelector, LinkFaults } from "./faults/network";
export { type NodeLink, NODE_LINKS } from "./faults/plan";
export { StartedToxiproxyContainer } from "./containers/toxiproxy";
export { ToxiproxyClient, type ToxiproxyProxy, type Toxic, type ToxicSpec } from "./faults/toxiproxy-client";

// Options and errors
export type { TargetOption, SwarmTargetOptions, KubernetesTargetOptions } from "./model/options";
export { InvalidOptionError, type M3AggregatorClusterOptions, type ResolvedClusterOptions, type FlushBackend, type LogLevel, type DebugOptions } from "./model/options";
export { type ProgressEvent } from "./model/phases";
export { type ImageNames } from "./model/components";
export { ClusterStartError } from "./cluster/errors";
export { ClusterIdInUseError } from "./lifecycle/claim";
export { StartAbortedError, StartTimeoutError } from "./lifecycle/budget";
export { TeardownError, type TeardownReport } from "./lifecycle/live";
export { type StartPhase, type LogTail } from "./model/phases";
export { PortInUseError } from "./ports";
export { type PortPlan, type NodePorts } from "./model/network";
export { DockerUnavailableError, containersWithLabel } from "./docker/client";
export { HttpError } from "./util/http";
/** Labels on every container: find a cluster's containers, e.g. for a leak check. */
export { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE } from "./model/labels";
export type { ResolvedImage, ImageSource } from "./model/components";
export { supportedM3Versions, defaultM3Version, type M3Version } from "./model/versions";
export { SourceBuildError } from "./m3/source-build";
export type { ClusterTls } from "./tls/material";
export type { TlsMode, TlsOption, TlsSettings } from "./model/tls";

// Beyond one machine: the plan rendered for other engines (README "Beyond one machine")
export { planForTarget } from "./cluster/target-plan";
export { renderKubernetes, kubernetesYaml, type KubernetesObject } from "./targets/kubernetes";
export { renderLoadJob, type LoadJobOptions } from "./targets/load-job";
export { renderSwarmStack, swarmStackYaml, type SwarmStack } from "./targets/swarm";
export type { TlsFiles } from "./targets/workloads";

// Ingest client and metric types
export { M3IngestClient, DeliveryError, type IngestClientOptions, type PlacementSource, type DeliveryReport, type EndpointReport } from "./ingest/client";
export { InvalidClientOptionError } from "./ingest/options";
export { encodeFrame, IngestEncoder, type EncodeOptions, type Metric, type MetricPolicy } from "./ingest/encoder";
export { TlsCertificateError, type ConnectionStats, type ConnectionState } from "./ingest/connection";
export { InvalidMetricError, type StoragePolicyNanos, type AggregationTypeName, type MetricKind } from "./ingest/policy";

// Sink
export { M3MsgSink, type SinkStats, type Conflict } from "./sink/sink";
export type { AggregatedDatapoint, MsgMetadata } from "./sink/codec";

// Load harness
export {
  runLoad, formatLoadReport, InvalidLoadOptionError, LOAD_METRIC_TYPES,
  type LoadOptions, type LoadProgress, type LoadReport, type LoadTarget, type LoadMetricType, type AggregatorSelfReport,
} from "./load/run";
export type { LoadChecks, TypeCheck } from "./load/verify";
export { ChaosStepError, CHAOS_ACTIONS, type ChaosStep, type ChaosLink, type LoadTimeline, type StepOutcome } from "./load/chaos";
export { PrometheusMetrics, PrometheusParseError, type PrometheusSample, type PrometheusType } from "./m3/prometheus";

// Test-runner helpers
export { useM3AggregatorCluster, globalSuiteHooks, type ClusterHandle, type SuiteHooks } from "./jest/helper";
export { workerMetricPrefix } from "./util/worker-prefix";
export {
  sharedClusterSetup, sharedClusterTeardown, useSharedM3AggregatorCluster, SHARED_CLUSTER_ENV, m3aggGlobalSetup, type ProvidingProject,
} from "./jest/shared-cluster";
