import { DEFAULTS, KNOWN_OPTIONS, OPTION_RULES, resolveOptions } from "../../../src/cluster/options";
import { InvalidOptionError } from "../../../src/model/options";

function invalid(options: Parameters<typeof resolveOptions>[0]): InvalidOptionError {
  try {
    resolveOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be rejected`);
}

describe("resolveOptions", () => {
  test("defaults are the seed's: 4 nodes, rf 2, 64 shards, blackhole", () => {
    const resolved = resolveOptions();
    expect(resolved).toMatchObject({ nodes: 4, rf: 2, numShards: 64, isolationGroups: 2, backend: "blackhole", basePort: undefined });
    expect(resolved.electionTtlSeconds).toBe(DEFAULTS.electionTtlSeconds);
    expect(resolved.clusterId).toMatch(/^m3agg-/);
  });

  test.each([
    [{ nodes: 3 }, "nodes", /must be even/],
    [{ nodes: 0 }, "nodes", /integer from 2 to 64/],
    [{ nodes: 2.5 }, "nodes", /integer/],
    [{ nodes: "4" as unknown as number }, "nodes", /integer/],
    [{ nodes: 4, rf: 5 }, "rf", /integer from 1 to 4/],
    [{ nodes: 4, rf: 0 }, "rf", /integer from 1 to 4/],
    [{ nodes: 6, rf: 4 }, "rf", /must divide nodes=6/],
    [{ nodes: 4, rf: 3 }, "rf", /must divide nodes=4/],
    [{ nodes: 4, rf: 2, numShards: 1 }, "numShards", /at least one shard per shard set \(nodes\/rf=2\)/],
    [{ numShards: 5000 }, "numShards", /to 4096/],
    [{ nodes: 4, rf: 2, isolationGroups: 1 }, "isolationGroups", /2 different isolation groups/],
    [{ nodes: 4, rf: 2, isolationGroups: 5 }, "isolationGroups", /from 2 to 4/],
    [{ nodes: 8, basePort: 65500 }, "basePort", /node 8 listens on basePort\+73/],
    [{ basePort: 80 }, "basePort", /from 1024/],
    [{ electionTtlSeconds: 1 }, "electionTtlSeconds", /from 2 to 300/],
    [{ backend: "kafka" as never }, "backend", /one of "blackhole", "logging"/],
    [{ clusterId: "no spaces" }, "clusterId", /letters, digits/],
    [{ images: { m3aggregator: "" } }, "images.m3aggregator", /non-empty image reference/],
    [{ images: { prometheus: "x" } as never }, "images.prometheus", /components are/],
    [{ node: 4 } as never, "node", /is not an option/],
    [{ host: "localhost" }, "host", /IPv4 address/],
    [{ host: "0.0.0.0" }, "host", /not a name or 0.0.0.0/],
    [{ host: "127.0.0.256" }, "host", /IPv4 address/],
  ])("%j is rejected on %s", (options, option, rule) => {
    const error = invalid(options);
    expect(error.option).toBe(option);
    expect(error.message).toMatch(rule);
    expect(error.message).toContain(`${option}=`);
  });

  test("the error names the bad value", () => {
    expect(invalid({ nodes: 5 }).message).toBe("invalid option nodes=5: must be even: aggregator nodes run as leader/follower pairs");
  });

  test.each([
    [{ nodes: 2, rf: 2 }, 2],
    [{ nodes: 2, rf: 1 }, 1],
    [{ nodes: 6, rf: 3 }, 3],
    [{ nodes: 8, rf: 4, isolationGroups: 8 }, 8],
  ])("%j is accepted with %d isolation groups", (options, groups) => {
    expect(resolveOptions(options).isolationGroups).toBe(groups);
  });

  test("basePort at the top of the range is accepted exactly up to the last node's TCP port", () => {
    expect(resolveOptions({ nodes: 4, basePort: 65535 - 33 }).basePort).toBe(65502);
    expect(() => resolveOptions({ nodes: 4, basePort: 65535 - 32 })).toThrow(InvalidOptionError);
  });

  test("reuse: the id derives from the defining options only", () => {
    const a = resolveOptions({ nodes: 2, rf: 2, reuse: true });
    expect(a.clusterId).toBe(`reuse-${a.reuseKey}`);
    expect(resolveOptions({ nodes: 2, rf: 2, reuse: true, startTimeoutMs: 5_000 }).clusterId).toBe(a.clusterId);
    expect(resolveOptions({ nodes: 2, rf: 1, reuse: true }).clusterId).not.toBe(a.clusterId);
    expect(resolveOptions({ nodes: 2, rf: 2 }).reuseKey).toBeUndefined();
    expect(() => resolveOptions({ reuse: true, clusterId: "x" })).toThrow("cannot be set with reuse");
  });

  test("the environment is read once per resolve, with one boolean convention (1, true, yes), and kept in the resolved options", () => {
    for (const on of ["1", "true", "YES"]) expect(resolveOptions({ nodes: 2, rf: 2 }, { M3AGG_REUSE: on }).reuseKey).toMatch(/^[0-9a-f]{12}$/);
    for (const off of ["0", "false", "", "on"]) expect(resolveOptions({ nodes: 2, rf: 2 }, { M3AGG_REUSE: off }).reuseKey).toBeUndefined();
    expect(resolveOptions({ m3Version: "v1.6.0" }, { DISABLE_TLS: "1" }).tls).toBeUndefined();
    expect(resolveOptions({ m3Version: "v1.6.0" }, { DISABLE_TLS: "no" }).tls).toEqual({ mode: "permissive", mutualTls: true });
    const fromEnv = resolveOptions({}, { M3AGG_AGGREGATOR_IMAGE: "my/agg:1", M3AGG_ETCD_IMAGE: "", M3AGG_IMAGES: "local" });
    expect(fromEnv.imagesFromEnv).toEqual({ m3aggregator: "my/agg:1" });
    expect(fromEnv.imageMode).toBe("local");
    expect(resolveOptions({}, {}).imageMode).toBe("auto");
    expect(() => resolveOptions({}, { M3AGG_IMAGES: "remote" })).toThrow('invalid option M3AGG_IMAGES="remote": must be one of "auto", "local", "official"');
  });

  test("reuse key: covers what the environment chose (images, image mode, version), not the id or the timeout", () => {
    const key = (env: NodeJS.ProcessEnv) => resolveOptions({ nodes: 2, rf: 2, reuse: true }, env).reuseKey;
    expect(key({})).toBe(key({}));
    expect(key({ M3AGG_AGGREGATOR_IMAGE: "my/agg:1" })).not.toBe(key({}));
    expect(key({ M3AGG_AGGREGATOR_IMAGE: "my/agg:1" })).not.toBe(key({ M3AGG_AGGREGATOR_IMAGE: "my/agg:2" }));
    expect(key({ M3AGG_IMAGES: "official" })).not.toBe(key({}));
    expect(key({ M3AGG_M3_VERSION: "v1.5.0" })).not.toBe(key({}));
  });

  test("one rule per option: the known options are the rule table's keys", () => {
    expect([...KNOWN_OPTIONS].sort()).toEqual(Object.keys(OPTION_RULES).sort());
    expect(KNOWN_OPTIONS).toEqual(expect.arrayContaining(["nodes", "rf", "tls", "m3Version", "m3Source", "configOverrides", "onProgress"]));
    expect(() => resolveOptions({ node: 2 } as never)).toThrow(`invalid option node=2: is not an option (known: ${KNOWN_OPTIONS.join(", ")})`);
  });
});
