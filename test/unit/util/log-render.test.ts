import { formatLogLine, renderLogLine } from "../../../src/util/log-render";

describe("log rendering", () => {
  it("renders a zap JSON line of m3 (epoch ts) as time level msg key=value", () => {
    const line = '{"level":"info","ts":1764594123.456,"msg":"election state changed from follower to leader","shardSetId":1,"reason":"a b"}';
    expect(renderLogLine(line)).toEqual({ level: "info", text: '13:02:03.456 INFO  election state changed from follower to leader shardSetId=1 reason="a b"' });
  });

  it("renders etcd's ISO timestamps and keeps other lines as they are", () => {
    expect(renderLogLine('{"level":"warn","ts":"2026-12-01T13:02:03.456Z","caller":"x.go:1","msg":"slow"}').text).toBe("13:02:03.456 WARN  slow caller=x.go:1");
    expect(renderLogLine("plain text").text).toBe("plain text");
    expect(renderLogLine("{not json}").text).toBe("{not json}");
  });

  it("prefixes the component, colored only when asked", () => {
    const line = { component: "etcd", raw: "x", text: "x", level: "error" };
    expect(formatLogLine(line, { width: 14, colorIndex: 0, color: false })).toBe("etcd           | x");
    expect(formatLogLine(line, { width: 4, colorIndex: 0, color: true })).toBe("\u001b[36metcd |\u001b[0m \u001b[31mx\u001b[0m");
  });
});
