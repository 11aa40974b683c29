/**
 * The real binary (`node bin/mex.js`) on fixtures: exit codes, the text form, the exact JSON shape,
 * usage errors, `inspect --format json`, and hostile input. Needs dist/: `npm test` builds it in
 * `pretest`; when dist is missing or older than the sources, beforeAll builds it with tsc.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/cli.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
let tmp: string;


beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "mex-cli-"));
}, 180_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mex(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin/mex.js"), ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function noStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(stderr).not.toContain("internal error");
}

describe("mex check", () => {
  it("exits 0 on every shipped spec, in one invocation", () => {
    const specs = readdirSync(path.join(ROOT, "specs")).filter((f) => f.endsWith(".mex")).map((f) => `specs/${f}`);
    expect(specs.length).toBeGreaterThanOrEqual(5);
    const r = mex("check", ...specs);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`ok: 0 errors, 0 warnings in ${specs.length} files\n`);
    expect(r.code).toBe(0);
  });

  it("exits 1 on a broken file with location, code frame, caret and hint", () => {
    const r = mex("check", "test/cases/unknown-layer.mex");
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("test/cases/unknown-layer.mex:9:16: error[MEX2001]: unknown layer 'covn'");
    expect(lines[1]).toBe("  9 |     stage s2 { covn(32, kernel=3) bn relu maxpool(2) }");
    expect(lines[2]).toBe("    |                ^^^^");
    expect(lines[3]).toBe("    = hint: did you mean 'conv'?");
    // The whole output is the golden baseline.
    expect(r.stdout).toBe(readFileSync(path.join(ROOT, "test/baselines/unknown-layer.txt"), "utf8"));
  });

  it("exits 0 with warnings only", () => {
    const r = mex("check", "test/cases/unused-constant.mex");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("warning[MEX3905]");
    expect(r.stdout.trimEnd().split("\n").pop()).toBe("0 errors, 1 warning in 1 file");
  });

  it("exits 2 on a missing file, naming it, and still checks the others", () => {
    const r = mex("check", "specs/quickstart.mex", "no/such/file.mex");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("mex: cannot read 'no/such/file.mex': no such file\n");
    expect(r.stdout).toBe("ok: 0 errors, 0 warnings in 1 file\n");
  });

  it("prints exactly the documented JSON shape", () => {
    const r = mex("check", "--format", "json", "test/cases/multi-errors-and-warnings.mex", "specs/quickstart.mex");
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json)).toEqual(["files", "errors", "warnings"]);
    expect(json.errors).toBe(1);
    expect(json.warnings).toBe(2);
    expect(json.files.map((f: { file: string }) => f.file)).toEqual(["test/cases/multi-errors-and-warnings.mex", "specs/quickstart.mex"]);
    for (const file of json.files) expect(Object.keys(file)).toEqual(["file", "diagnostics"]);
    expect(json.files[1].diagnostics).toEqual([]);
    const [first, , third] = json.files[0].diagnostics;
    expect(first).toEqual({
      code: "MEX3905",
      severity: "warning",
      message: "constant 'spare' is never used",
      line: 6,
      column: 7,
      endLine: 6,
      endColumn: 12,
      hint: "remove it",
    });
    // No hint: the key is absent, not null.
    expect(third).toEqual({ code: "MEX3002", severity: "error", message: "temperature factor must be > 1, got 1", line: 21, column: 59, endLine: 21, endColumn: 60 });
    for (const d of json.files[0].diagnostics) {
      expect(Object.keys(d).filter((k) => k !== "hint")).toEqual(["code", "severity", "message", "line", "column", "endLine", "endColumn"]);
    }
  });

  it("rejects --format xml with exit 2, naming the option and the accepted values", () => {
    const r = mex("check", "--format", "xml", "specs/quickstart.mex");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("--format");
    expect(r.stderr).toContain("text");
    expect(r.stderr).toContain("json");
    expect(r.stderr).toContain("'xml'");
    noStackTrace(r.stderr);
  });
});

describe("mex inspect", () => {
  it("--format json has exits with cumulative costs and a layer list", () => {
    const r = mex("inspect", "specs/fashion-3exit.mex", "--format", "json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    const keys = ["name", "after", "params", "macs", "cumulativeMacs", "fraction"];
    for (const exit of json.exits) for (const key of keys) expect(exit).toHaveProperty(key);
    expect(json.exits.map((e: { name: string; after: string }) => `${e.name}@${e.after}`)).toEqual(["e1@s1", "e2@s2", "e3@s3"]);
    // e1: s1 conv 28*28*32*9 + head conv 7*7*32*(9*32) + dense 32*10
    const e1 = 28 * 28 * 32 * 9 + 7 * 7 * 32 * 9 * 32 + 32 * 10;
    const e3 = 28 * 28 * 32 * 9 + 14 * 14 * 64 * 9 * 32 + 7 * 7 * 128 * 9 * 64 + 128 * 10;
    expect(json.exits[0].cumulativeMacs).toBe(e1);
    expect(json.exits[2].cumulativeMacs).toBe(e3);
    expect(json.exits[0].fraction).toBeCloseTo(e1 / e3, 12);
    expect(json.exits[2].fraction).toBe(1);
    expect(Array.isArray(json.layers)).toBe(true);
    expect(json.layers[0]).toMatchObject({ name: "s1/conv", kind: "conv", outShape: [28, 28, 32], params: 9 * 32 + 32, macs: 28 * 28 * 32 * 9 });
  });

  it("prints a text table and exits 1 with diagnostics on a broken spec", () => {
    const ok = mex("inspect", "specs/quickstart.mex");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("model quickstart: input [16, 16, 1], 4 classes");
    const bad = mex("inspect", "test/cases/unknown-layer.mex");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error[MEX2001]");
  });

  it("exits 2 on a missing file", () => {
    const r = mex("inspect", "no/such.mex");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot read 'no/such.mex'");
  });
});

describe("hostile input", () => {
  const cases: [string, () => string | Buffer][] = [
    ["binary garbage", () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))],
    ["10,000 nested brackets", () => `model m { input ${"[".repeat(10_000)}1${"]".repeat(10_000)} }\n`],
    ["10,000 unclosed braces", () => `model m {${" stage s {".repeat(10_000)}\n`],
    ["an empty file", () => ""],
    ["a NUL byte inside a spec", () => readFileSync(path.join(ROOT, "specs/quickstart.mex"), "utf8").replace("bn relu", "bn \u0000 relu")],
  ];
  for (const [what, make] of cases) {
    it(`${what}: exit 1 with diagnostics, no stack trace`, () => {
      const file = path.join(tmp, `${what.replace(/\W+/g, "-")}.mex`);
      writeFileSync(file, make());
      const r = mex("check", file);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/error\[MEX1\d{3}\]/);
      expect(r.stderr).toBe("");
      noStackTrace(r.stdout);
      const json = mex("check", "--format", "json", file);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout).errors).toBeGreaterThan(0);
    });
  }
});
