/**
 * The version profile owns every version fact, read from images/images.json: a version added to
 * that table is encoded, rendered and validated without a code edit. Expected bytes and keys are
 * written out from m3's field numbers and config keys, not computed by the code under test.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { resolveOptions } from "../../../src/cluster/options";
import { encodeFrame, IngestEncoder } from "../../../src/ingest/encoder";
import { renderAggregatorConfig, renderCoordinatorConfig } from "../../../src/m3/config-render";
import {
  IMAGES_FILE, profileOfSource, supportedM3Versions, useVersionTable, type VersionEntry, type VersionTable, versionProfile, versionTable,
} from "../../../src/model/versions";
import { lengthDelimited as len } from "../protobuf-bytes";

const FAKE = "v9.9.9-fake";
const PORTS = { http: 30001, metrics: 30002, tcp: 30003 };
const renderAggregator = (m3Version: string, tls?: { mode: "permissive"; mutualTls: boolean }) => parse(renderAggregatorConfig({
  ports: PORTS, etcdClientPort: 2379, electionTtlSeconds: 10, backend: "blackhole", logLevel: "info", m3Version, tls,
}));

/** The shipped table with one more version; `facts` override what it copies from v1.5.0. */
function withFake(facts: Partial<VersionEntry>): VersionTable {
  const shipped = JSON.parse(fs.readFileSync(IMAGES_FILE, "utf8")) as VersionTable;
  return { ...shipped, m3Versions: { [FAKE]: { ...shipped.m3Versions["v1.5.0"]!, ...facts }, ...shipped.m3Versions } };
}

/** counter foo=1 with the default metadata, by hand: PipelineMetadata{aggregation_id = 1, pipeline = 3[, routing_policy = 6]}. */
function counterFrame(routingPolicy: boolean): Buffer {
  const pipeline = [...len(1, []), ...len(3, []), ...(routingPolicy ? len(6, []) : [])];
  const counter = [...len(1, [...Buffer.from("foo")]), 0x10, 0x01];
  const payload = [0x08, 0x01, ...len(2, [...len(1, counter), ...len(2, len(1, len(3, len(1, pipeline))))])];
  return Buffer.from([payload.length << 1, ...payload]);
}

describe("version profile", () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  test("the shipped table: what differs between v1.6.0 and v1.5.0", () => {
    expect(supportedM3Versions()).toEqual(["v1.6.0", "v1.5.0"]);
    expect(versionProfile("v1.6.0")).toMatchObject({ supportsTls: true, wire: { routingPolicy: true }, config: { etcdTimeouts: true, clientReadTimeout: true } });
    expect(versionProfile("v1.5.0")).toMatchObject({ supportsTls: false, wire: { routingPolicy: false }, config: { etcdTimeouts: false, clientReadTimeout: false } });
    expect(versionTable().m3Versions["v1.6.0"]?.sourceMarker).toBe("src/x/server/secured_conn.go");
  });

  test("a version added to the table: the encoder writes its wire fields, with and without routing_policy", () => {
    const without = `${FAKE}-no-routing`;
    const table = withFake({ wire: { routingPolicy: true } });
    restore = useVersionTable({ ...table, m3Versions: { ...table.m3Versions, [without]: { ...table.m3Versions[FAKE]!, wire: { routingPolicy: false } } } });
    expect(encodeFrame({ type: "counter", id: "foo", value: 1 }, { m3Version: FAKE })).toEqual(counterFrame(true));
    expect(encodeFrame({ type: "counter", id: "foo", value: 1 }, { m3Version: without })).toEqual(counterFrame(false));
    expect(new IngestEncoder({ m3Version: without }).m3Version).toBe(without);
    const timed = (m3Version: string) => encodeFrame({ type: "timed", metricType: "gauge", id: "g", timeNanos: 1n, value: 1, storagePolicy: "1m:40d" }, { m3Version });
    // TimedMetadata.routing_policy = 3, empty: `1a 00` at the end of the frame, or nothing.
    expect(timed(FAKE).subarray(-2)).toEqual(Buffer.from([0x1a, 0x00]));
    expect(timed(without).length).toBe(timed(FAKE).length - 2);
  });

  test("a version added to the table: the renderer writes only the config keys its loader knows", () => {
    restore = useVersionTable(withFake({ config: { etcdTimeouts: false, clientReadTimeout: true } }));
    const aggregator = renderAggregator(FAKE);
    expect(aggregator.aggregator.client.connection.readTimeout).toBe("15s");
    expect(aggregator.kvClient.etcd.etcdClusters[0].autoSyncInterval).toBeUndefined();
    expect(aggregator.kvClient.etcd.etcdClusters[0].dialTimeout).toBeUndefined();
    const coordinator = parse(renderCoordinatorConfig({ port: 7201, metricsPort: 7203, etcdClientPort: 2379, logLevel: "info", m3Version: FAKE }));
    expect(coordinator.clusterManagement.etcd.etcdClusters[0].autoSyncInterval).toBeUndefined();
    restore();
    restore = useVersionTable(withFake({ config: { etcdTimeouts: true, clientReadTimeout: false } }));
    expect(renderAggregator(FAKE).kvClient.etcd.etcdClusters[0]).toMatchObject({ autoSyncInterval: "1m", dialTimeout: "15s" });
    expect(renderAggregator(FAKE).aggregator.client.connection?.readTimeout).toBeUndefined();
  });

  test("a version added to the table: options accept it, and its TLS support decides the tls default and rule", () => {
    restore = useVersionTable(withFake({ tls: true }));
    expect(resolveOptions({ m3Version: FAKE }).tls).toEqual({ mode: "permissive", mutualTls: true });
    expect(renderAggregator(FAKE, { mode: "permissive", mutualTls: true }).rawtcp.tls.mode).toBe("permissive");
    restore();
    restore = useVersionTable(withFake({ tls: false }));
    expect(resolveOptions({ m3Version: FAKE }).tls).toBeUndefined();
    expect(() => resolveOptions({ m3Version: FAKE, tls: "enforced" })).toThrow(`m3 ${FAKE} has no raw TCP TLS`);
    expect(() => renderAggregator(FAKE, { mode: "permissive", mutualTls: true })).toThrow(`m3 ${FAKE} has no raw TCP TLS`);
    expect(versionProfile(FAKE).localImages.m3aggregator).toBe(`m3agg-local/m3aggregator:${FAKE}`);
  });

  test("a source tree is the newest version whose marker file it has, else the oldest", () => {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-versions-"));
    try {
      expect(profileOfSource(tree)).toBe("v1.5.0");
      fs.mkdirSync(path.join(tree, "src/x/server"), { recursive: true });
      fs.writeFileSync(path.join(tree, "src/x/server/secured_conn.go"), "package server\n");
      expect(profileOfSource(tree)).toBe("v1.6.0");
      restore = useVersionTable(withFake({ sourceMarker: "src/new-in-fake.go" }));
      expect(profileOfSource(tree)).toBe("v1.6.0");
      fs.writeFileSync(path.join(tree, "src/new-in-fake.go"), "package src\n");
      expect(profileOfSource(tree)).toBe(FAKE);
    } finally {
      fs.rmSync(tree, { recursive: true, force: true });
    }
  });
});
