import { PassThrough } from "node:stream";
import { LogBuffer } from "../../../src/containers/log-buffer";

describe("LogBuffer", () => {
  test("joins lines split across chunks and keeps only the last `capacity` lines", async () => {
    const buffer = new LogBuffer(3);
    const stream = new PassThrough();
    buffer.consumer(stream);
    stream.write("one\ntw");
    stream.write("o\nthree\r\nfour\nfi");
    stream.end("ve");
    await new Promise((resolve) => stream.on("end", resolve));
    expect(buffer.all()).toEqual(["three", "four", "five"]);
    expect(buffer.tail(2)).toEqual(["four", "five"]);
  });
});
