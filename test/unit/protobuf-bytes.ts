/**
 * Builds expected protobuf bytes by hand from field numbers, independently of
 * the code under test (which goes through protobufjs).
 */

/** Base-128 varint of an integer (a negative one as its 64-bit two's complement, as protobuf writes int64). */
export function varint(value: bigint): number[] {
  const out: number[] = [];
  let n = BigInt.asUintN(64, value);
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    out.push(byte);
  } while (n > 0n);
  return out;
}

/** A field's tag byte: field number and wire type (0 varint, 1 fixed64, 2 length-delimited). */
export const tag = (field: number, wireType: 0 | 1 | 2): number => (field << 3) | wireType;

/** A length-delimited field: tag, length, bytes. */
export const lengthDelimited = (field: number, bytes: number[]): number[] => [tag(field, 2), ...varint(BigInt(bytes.length)), ...bytes];
