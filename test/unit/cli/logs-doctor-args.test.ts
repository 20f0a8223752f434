import { parseArgs, parseSince } from "../../../src/cli/args";

describe("logs arguments", () => {
  it("parses --follow/-f, --raw, --since and a component", () => {
    expect(parseArgs(["logs", "-f", "m3aggregator01", "--raw"], {})).toMatchObject({ command: "logs", component: "m3aggregator01", follow: true, raw: true });
    expect(parseArgs(["logs", "--follow", "--tail", "3"], {})).toMatchObject({ follow: true, tail: 3, component: undefined });
  });

  it("--since takes a duration ago or an RFC 3339 time, as Unix seconds", () => {
    const now = Date.parse("2026-12-01T13:00:00Z");
    expect(parseSince("30s", now)).toBe(String(now / 1000 - 30));
    expect(parseSince("5m", now)).toBe(String(now / 1000 - 300));
    expect(parseSince("2h", now)).toBe(String(now / 1000 - 7200));
    expect(parseSince("2026-12-01T12:00:00Z", now)).toBe(String(now / 1000 - 3600));
    expect(() => parseSince("yesterday", now)).toThrow('--since "yesterday": expected a duration');
  });

  it("doctor takes --fix and --json only", () => {
    expect(parseArgs(["doctor", "--fix", "--json"], {})).toEqual({ command: "doctor", fix: true, json: true });
    expect(() => parseArgs(["doctor", "--all"], {})).toThrow('unknown flag "--all"');
  });
});
