import { demuxLogs } from "../../../src/docker/client";

/** A frame as the engine writes it (its format, per Docker's API docs): type, 3 zero bytes, size big-endian, payload. */
function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const header = Buffer.from([type, 0, 0, 0, 0, 0, 0, 0]);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

test("demuxLogs joins stdout and stderr frames in order and drops the headers", () => {
  const raw = Buffer.concat([frame(1, "first line\nsec"), frame(2, "ond line\n"), frame(1, "größe ✓\n")]);
  expect(demuxLogs(raw)).toBe("first line\nsecond line\ngröße ✓\n");
  expect(demuxLogs(Buffer.alloc(0))).toBe("");
});
