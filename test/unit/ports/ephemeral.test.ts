import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { allocatablePortRanges, ephemeralPortRange, parsePortRange } from "../../../src/ports";

describe("ephemeral range", () => {
  test("read from the proc file when it is there", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-range-")), "ip_local_port_range");
    fs.writeFileSync(file, "40000\t50000\n");
    expect(ephemeralPortRange(file, "linux")).toEqual({ from: 40000, to: 50000 });
  });

  test("documented defaults when it is not: Linux 32768-60999, elsewhere IANA 49152-65535", () => {
    expect(ephemeralPortRange("/nonexistent", "linux")).toEqual({ from: 32768, to: 60999 });
    expect(ephemeralPortRange("/nonexistent", "darwin")).toEqual({ from: 49152, to: 65535 });
    expect(ephemeralPortRange("/nonexistent", "win32")).toEqual({ from: 49152, to: 65535 });
  });

  test("the pool minus the ephemeral range", () => {
    expect(allocatablePortRanges({ from: 32768, to: 60999 }, { from: 10000, to: 65535 }))
      .toEqual([{ from: 10000, to: 32767 }, { from: 61000, to: 65535 }]);
    expect(allocatablePortRanges({ from: 49152, to: 65535 }, { from: 10000, to: 65535 })).toEqual([{ from: 10000, to: 49151 }]);
    expect(() => allocatablePortRanges({ from: 32768, to: 60999 }, { from: 40000, to: 41000 }))
      .toThrow("the pool 40000-41000 lies inside the kernel's ephemeral range 32768-60999");
  });

  test("M3AGG_PORT_RANGE: FROM-TO, or an error naming the value and the rule", () => {
    expect(parsePortRange("20000-29999")).toEqual({ from: 20000, to: 29999 });
    expect(() => parsePortRange("2000")).toThrow('M3AGG_PORT_RANGE="2000" is not a port range: expected "FROM-TO" with 1024 ≤ FROM ≤ TO ≤ 65535');
    expect(() => parsePortRange("30000-20000")).toThrow("is not a port range");
    expect(() => parsePortRange("80-9000")).toThrow("is not a port range");
  });
});
