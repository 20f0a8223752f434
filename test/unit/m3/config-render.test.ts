import { parse } from "yaml";
import { renderAggregatorConfig, renderCoordinatorConfig } from "../../../src/m3/config-render";

const ports = { http: 16001, metrics: 16002, tcp: 16003 };

describe("config rendering", () => {
  test("aggregator: every listener on 127.0.0.1 with the planned ports, etcd endpoint, TTL, backend", () => {
    const yaml = renderAggregatorConfig({ ports, etcdClientPort: 12379, electionTtlSeconds: 7, backend: "logging", logLevel: "debug" });
    const config = parse(yaml);
    expect(config.http.listenAddress).toBe("127.0.0.1:16001");
    expect(config.metrics.prometheus.listenAddress).toBe("127.0.0.1:16002");
    expect(config.rawtcp.listenAddress).toBe("127.0.0.1:16003");
    expect(config.kvClient.etcd.etcdClusters[0].endpoints).toEqual(["127.0.0.1:12379"]);
    expect(config.aggregator.electionManager.election.ttlSeconds).toBe(7);
    expect(config.aggregator.flush.handlers).toEqual([{ staticBackend: { type: "logging" } }]);
    expect(config.logging.level).toBe("debug");
    // Keys whose absence breaks m3 silently or at start-up (see fixtures/m3aggregator.yml).
    expect(config.aggregator.defaultStoragePolicies).toEqual(["10s:2d"]);
    expect(config.aggregator.instanceID.type).toBe("host_id");
    expect(config.aggregator.flushManager.jitterEnabled).toBe(false);
    expect(config.kvClient.etcd.cacheDir).toBeUndefined();
    expect(yaml).toContain("# no cacheDir"); // template comments survive rendering
  });

  test("no listener is left on a wildcard or default address", () => {
    const yaml = renderAggregatorConfig({ ports, etcdClientPort: 12379, electionTtlSeconds: 10, backend: "blackhole", logLevel: "info" });
    expect(yaml).not.toMatch(/0\.0\.0\.0|:600[123]\b|:2379\b/);
    const coordinator = renderCoordinatorConfig({ port: 17201, metricsPort: 17203, etcdClientPort: 12379, logLevel: "info" });
    expect(coordinator).not.toMatch(/0\.0\.0\.0|:720[13]\b|:2379\b/);
  });

  test("coordinator: admin and metrics listeners, etcd endpoint, noop-etcd backend", () => {
    const config = parse(renderCoordinatorConfig({ port: 17201, metricsPort: 17203, etcdClientPort: 12379, logLevel: "warn" }));
    expect(config.listenAddress).toBe("127.0.0.1:17201");
    expect(config.metrics.prometheus.listenAddress).toBe("127.0.0.1:17203");
    expect(config.clusterManagement.etcd.etcdClusters[0].endpoints).toEqual(["127.0.0.1:12379"]);
    expect(config.backend).toBe("noop-etcd");
    expect(config.logging.level).toBe("warn");
  });

  test("overrides merge objects and replace scalars and lists", () => {
    const config = parse(renderAggregatorConfig({
      ports, etcdClientPort: 1, electionTtlSeconds: 10, backend: "blackhole", logLevel: "info",
      overrides: { aggregator: { entryTTL: "10m", defaultStoragePolicies: ["1s:1h"], stream: { eps: 0.01 } } },
    }));
    expect(config.aggregator.entryTTL).toBe("10m");
    expect(config.aggregator.defaultStoragePolicies).toEqual(["1s:1h"]);
    expect(config.aggregator.stream).toEqual({ eps: 0.01, capacity: 32 });
    expect(config.aggregator.hashType).toBe("murmur32");
  });
});
