import { LogFrames, logLines, logText, parseStamp, sinceParameter, splitStamp } from "../../../src/docker/log-frames";

/** A frame as the engine writes it (its format, per Docker's API docs): type, 3 zero bytes, size big-endian, payload. */
function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const header = Buffer.from([type, 0, 0, 0, 0, 0, 0, 0]);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

test("logText joins stdout and stderr frames in order and drops the headers; a TTY's bytes stay as they are", () => {
  const raw = Buffer.concat([frame(1, "first line\nsec"), frame(2, "ond line\n"), frame(1, "größe ✓\n")]);
  expect(logText(raw)).toBe("first line\nsecond line\ngröße ✓\n");
  expect(logText(Buffer.alloc(0))).toBe("");
  expect(logText(Buffer.from("tty a\ntty b\n"))).toBe("tty a\ntty b\n");
});

test("logLines: lines without the empty one after the last newline, carriage returns dropped", () => {
  expect(logLines(Buffer.concat([frame(1, "one\r\ntw"), frame(2, "o\nthree\n")]))).toEqual(["one", "two", "three"]);
  expect(logLines(Buffer.concat([frame(1, "a\n\nb")]))).toEqual(["a", "", "b"]);
  expect(logLines(Buffer.alloc(0))).toEqual([]);
});

test("LogFrames gives whole payloads however the socket cuts the frames, and keeps the rest for the next chunk", () => {
  const raw = Buffer.concat([frame(1, "alpha\n"), frame(2, "beta\n"), frame(1, "gamma")]);
  for (const cut of [1, 3, 8, 9, 14, 20, raw.length - 1]) {
    const frames = new LogFrames();
    const got = [...frames.push(raw.subarray(0, cut)), ...frames.push(raw.subarray(cut))].map((b) => b.toString());
    expect({ cut, got }).toEqual({ cut, got: ["alpha\n", "beta\n", "gamma"] });
  }
  const byteByByte = new LogFrames();
  expect(Array.from(raw).flatMap((b) => byteByByte.push(Buffer.from([b]))).map((b) => b.toString())).toEqual(["alpha\n", "beta\n", "gamma"]);
});

test("splitStamp reads the engine's RFC 3339 stamp exactly, to the nanosecond", () => {
  // 2026-12-01T22:19:53Z is 1796163593 s after the epoch (date -u -d @1796163593).
  const { stampNs, text } = splitStamp(Buffer.from("2026-12-01T22:19:53.123456789Z {\"msg\":\"a b\"}\n"));
  expect(stampNs).toBe(1796163593123456789n);
  expect(text).toBe("{\"msg\":\"a b\"}\n");
  expect(parseStamp("2026-12-01T22:19:53Z")).toBe(1796163593000000000n);
  expect(parseStamp("2026-12-01T23:19:53.5+01:00")).toBe(1796163593500000000n);
  expect(parseStamp("0001-01-01T00:00:00Z")! < 0n).toBe(true);
  expect(parseStamp("yesterday")).toBeUndefined();
  expect(splitStamp(Buffer.from("no stamp here\n"))).toEqual({ stampNs: undefined, text: "no stamp here\n" });
});

test("sinceParameter is the engine's 'seconds.nanoseconds' form, fraction padded to nine digits", () => {
  expect(sinceParameter(1796163593123456789n)).toBe("1796163593.123456789");
  expect(sinceParameter(1796163593000000042n)).toBe("1796163593.000000042");
});
