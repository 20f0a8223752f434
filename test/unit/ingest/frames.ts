/**
 * The test side of m3's raw TCP framing, written from the wire format (not the client's encoder):
 * each frame is a zigzag varint length, then that many bytes of protobuf. Calls `onFrame` with
 * each whole payload received on `socket`, in order, across chunk boundaries.
 */
import type { Socket } from "node:net";

export function onFrames(socket: Socket, onFrame: (payload: Buffer) => void): void {
  let buffer: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      let size = 0n;
      let shift = 0n;
      let i = 0;
      for (; i < buffer.length; i++) {
        const b = buffer[i] as number;
        size |= BigInt(b & 0x7f) << shift;
        shift += 7n;
        if ((b & 0x80) === 0) break;
      }
      if (i >= buffer.length) return;
      const n = Number(size >> 1n); // zigzag of a non-negative length
      if (buffer.length < i + 1 + n) return;
      onFrame(buffer.subarray(i + 1, i + 1 + n));
      buffer = buffer.subarray(i + 1 + n);
    }
  });
}
