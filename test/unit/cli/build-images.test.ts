import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs, UsageError } from "../../../src/cli/args";
import { BUILD_SCRIPT } from "../../../src/cli/build-images";

describe("m3agg images", () => {
  test("passes build.sh's flags through in order", () => {
    expect(parseArgs(["images"], {})).toEqual({ command: "images", args: [] });
    expect(parseArgs(["images", "--m3-version", "v1.5.0", "--with-debug", "--m3-version", "v1.6.0"], {})).toEqual({
      command: "images", args: ["--m3-version", "v1.5.0", "--with-debug", "--m3-version", "v1.6.0"],
    });
  });

  test.each([
    [["images", "--m3-version"], /--m3-version needs a value/],
    [["images", "--force"], /unknown flag "--force"/],
    [["images", "all"], /images takes no arguments, got "all"/],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseArgs(argv, {})).toThrow(UsageError);
    expect(() => parseArgs(argv, {})).toThrow(message);
  });

  test("the script it runs is the one the package ships", () => {
    expect(BUILD_SCRIPT).toBe(path.resolve(__dirname, "../../../images/build.sh"));
    expect(fs.existsSync(BUILD_SCRIPT)).toBe(true);
  });

  // A stand-in script: prints its arguments on stdout and exits 3. The CLI must put that
  // output on its stderr (stdout stays clean) and exit with the script's code.
  test("runs the script with bash: args through, its output on stderr, its exit code", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "m3agg-images-"));
    const script = path.join(dir, "build.sh");
    fs.writeFileSync(script, 'echo "args:$*"; echo "err-line" >&2; exit 3\n'); // not executable: bash runs it
    const tsx = path.resolve(__dirname, "../../../node_modules/tsx/dist/cli.mjs");
    const program = `import { runImageBuild } from ${JSON.stringify(path.resolve(__dirname, "../../../src/cli/build-images"))};
process.exitCode = runImageBuild(["--with-debug", "--m3-version", "v1.5.0"], ${JSON.stringify(script)});`;
    const child = spawnSync(process.execPath, [tsx, "-e", program], { encoding: "utf8", timeout: 30_000 });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(child.stdout).toBe("");
    expect(child.stderr).toContain("args:--with-debug --m3-version v1.5.0\n");
    expect(child.stderr).toContain("err-line\n");
    expect(child.status).toBe(3);
  });

  test("a missing script is exit 1 with the path named", () => {
    const tsx = path.resolve(__dirname, "../../../node_modules/tsx/dist/cli.mjs");
    const program = `import { runImageBuild } from ${JSON.stringify(path.resolve(__dirname, "../../../src/cli/build-images"))};
process.exitCode = runImageBuild([], "/nonexistent/build.sh");`;
    const child = spawnSync(process.execPath, [tsx, "-e", program], { encoding: "utf8", timeout: 30_000 });
    expect(child.stderr).toContain("/nonexistent/build.sh is not there");
    expect(child.status).toBe(1);
  });
});
