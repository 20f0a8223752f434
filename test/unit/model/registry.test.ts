/**
 * REGISTRY values and image references: the rule (the domain and path grammar of
 * github.com/distribution/reference), and names by digest.
 */
import { apiRepository, byDigest, parseRegistry, pushedName, registryProblem, splitTag } from "../../../src/model/registry";
import { parseArgs, UsageError } from "../../../src/cli/args";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("registry values", () => {
  test.each([
    ["127.0.0.1:5000", { prefix: "127.0.0.1:5000", authority: "127.0.0.1:5000", path: "", loopback: true }],
    ["localhost:5000/ci/", { prefix: "localhost:5000/ci", authority: "localhost:5000", path: "ci", loopback: true }],
    ["localhost", { prefix: "localhost", authority: "localhost", path: "", loopback: true }],
    ["registry.example/team/m3", { prefix: "registry.example/team/m3", authority: "registry.example", path: "team/m3", loopback: false }],
    ["ghcr.io", { prefix: "ghcr.io", authority: "ghcr.io", path: "", loopback: false }],
    ["[::1]:5000", { prefix: "[::1]:5000", authority: "[::1]:5000", path: "", loopback: true }],
    ["10.0.0.7:30500", { prefix: "10.0.0.7:30500", authority: "10.0.0.7:30500", path: "", loopback: false }],
  ])("%s is a registry", (value, parsed) => {
    expect(registryProblem(value)).toBeUndefined();
    expect(parseRegistry(value)).toEqual(parsed);
  });

  test.each([
    ["http://127.0.0.1:5000", /has a scheme/],
    ["", /empty/],
    ["myteam", /Docker Hub namespace/],
    ["127.0.0.1:5000/Team", /grammar/],
    ["127.0.0.1:5000/m3:v1", /tag or a digest/],
    ["127.0.0.1:5000/m3@sha256:00", /tag or a digest/],
    ["127.0.0.1:99999", /port 99999 is not 1-65535/],
    ["reg istry.example", /grammar/],
  ])("%j is not a registry", (value, reason) => {
    expect(registryProblem(value)).toMatch(reason);
    expect(() => parseRegistry(value)).toThrow(`registry ${JSON.stringify(value)} must be host[:port][/path]`);
  });

  test("names under a registry, the v2 API's repository name, references by digest", () => {
    const r = parseRegistry("registry.example:5000/ci");
    expect(pushedName(r, "m3agg-local/m3aggregator:v1.6.0")).toBe("registry.example:5000/ci/m3agg-local/m3aggregator:v1.6.0");
    expect(apiRepository(r, "m3agg-local/m3aggregator:v1.6.0")).toBe("ci/m3agg-local/m3aggregator");
    expect(apiRepository(parseRegistry("127.0.0.1:5000"), "m3agg-local/etcd:v3.6.13")).toBe("m3agg-local/etcd");
    expect(byDigest("127.0.0.1:5000/m3agg-local/etcd:v3.6.13", DIGEST)).toBe(`127.0.0.1:5000/m3agg-local/etcd@${DIGEST}`);
    expect(splitTag("127.0.0.1:5000/m3agg-local/etcd:v3.6.13")).toEqual({ repository: "127.0.0.1:5000/m3agg-local/etcd", tag: "v3.6.13" });
    expect(() => byDigest("r.example/a:b", "sha256:xyz")).toThrow('digest "sha256:xyz" of r.example/a:b must be sha256:<64 hex digits>');
    expect(() => splitTag("127.0.0.1:5000/m3agg-local/etcd")).toThrow("must be repository:tag");
  });
});

describe("m3agg images --push / render --registry", () => {
  test("--push takes a registry and the build's version flags", () => {
    expect(parseArgs(["images", "--push", "127.0.0.1:5000", "--m3-version", "v1.5.0"], {}))
      .toEqual({ command: "images", args: ["--m3-version", "v1.5.0"], push: "127.0.0.1:5000" });
  });

  test.each([
    [["images", "--push", "http://127.0.0.1:5000"], /--push "http:\/\/127.0.0.1:5000": it has a scheme .*; a registry is host\[:port\]\[\/path\]/],
    [["images", "--push", "myteam"], /--push "myteam": "myteam" would be read as a Docker Hub namespace/],
    [["images", "--push"], /--push needs a value/],
    [["images", "--push", "127.0.0.1:5000", "--save", "/tmp/x"], /--push excludes --save and --load/],
    [["images", "--push", "127.0.0.1:5000", "--with-debug"], /--push pushes the m3aggregator, m3coordinator and etcd images/],
    [["render", "--target", "kubernetes", "--registry", "Registry.Example/Team"], /--registry "Registry.Example\/Team": .*grammar/],
  ])("%j is a usage error naming the value and the rule", (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(UsageError);
    expect(() => parseArgs(argv, {})).toThrow(message);
  });
});
