/** Load harness: runLoad (the library behind `m3agg load`) and the nodes' own Prometheus metrics. */
export {
  runLoad, formatLoadReport, resolveLoadOptions, InvalidLoadOptionError, LOAD_METRIC_TYPES,
  type LoadOptions, type LoadProgress, type LoadReport, type LoadTarget, type LoadMetricType, type AggregatorSelfReport,
} from "./run";
export { LoadLedger, checkLoad, checksPass, type LoadChecks, type TypeCheck } from "./verify";
export { parsePrometheusText, PrometheusMetrics, PrometheusParseError, type PrometheusSample, type PrometheusType } from "./prometheus";
