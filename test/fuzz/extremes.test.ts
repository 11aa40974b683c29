/**
 * The extremes of input: 10,000-deep nesting of every bracket kind and of `repeat`, a 200,000-term
 * sum (a 200,000-deep syntax tree), a 5 MB file, an empty file, binary files, very long lines. Each is
 * checked in-process against the invariants, and through the real CLI: exit code 1, no stack trace.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";
import { checkInvariants } from "./invariants.js";
import { ensureBuilt, mex, STACK_TRACE } from "../helpers/cli.js";

let tmp: string;
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "mex-extremes-"));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A small valid model with `expr` as the value of constant `a` (used as conv filters). */
function withConstant(expr: string): string {
  return `model m {\n  input [8, 8, 1]\n  classes 2\n  let a = ${expr}\n  backbone { stage s { conv(a) gap } }\n  exit e after s { dense(classes) }\n  train { data: synthetic() }\n}\n`;
}

/** A valid spec of at least `size` characters: stages until the size is reached, each a few layers. */
function bigSpec(size: number): string {
  const parts = ["model big {\n  input [8, 8, 1]\n  classes 2\n  backbone {\n"];
  let length = parts[0]!.length;
  for (let i = 0; length < size; i++) {
    const stage = `    stage s${i} { conv(4, kernel=3) bn relu } // stage ${i}: ${"padding ".repeat(20)}\n`;
    parts.push(stage);
    length += stage.length;
  }
  parts.push("  }\n  exit e after s0 { gap dense(classes) }\n  train { data: synthetic() }\n}\n");
  return parts.join("");
}

function seededBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a >>> 24;
  }
  out[0] = 0; // always at least one NUL
  return out;
}

const DEPTH = 10_000;
const CASES: { name: string; text: () => string; code?: string; boundMs?: number }[] = [
  { name: "10,000-deep ( )", text: () => withConstant("(".repeat(DEPTH) + "1" + ")".repeat(DEPTH)), code: "MEX1014" },
  { name: "10,000-deep [ ]", text: () => withConstant("[".repeat(DEPTH) + "1" + "]".repeat(DEPTH)), code: "MEX1014" },
  { name: "10,000-deep { }", text: () => "model m { train { data: " + "{".repeat(DEPTH) + "}".repeat(DEPTH) + " } }", code: "MEX1014" },
  { name: "10,000-deep repeat 1 {", text: () => "model m { backbone { stage s { " + "repeat 1 { ".repeat(DEPTH) + "relu " + "} ".repeat(DEPTH) + "} } }", code: "MEX1014" },
  { name: "10,000 unclosed (", text: () => withConstant("(".repeat(DEPTH)), code: "MEX1014" },
  { name: "200,000-term sum 1+1+...", text: () => withConstant(Array(200_000).fill("1").join("+")), code: "MEX1014" },
  { name: "200,000-term product", text: () => withConstant(Array(200_000).fill("1").join("*")), code: "MEX1014" },
  { name: "200,000 unary minuses", text: () => withConstant("-".repeat(200_000) + "1"), code: "MEX1014" },
  { name: "1,000-term sum (within the limit)", text: () => withConstant(Array(1000).fill("1").join("+")) },
  { name: "empty file", text: () => "", code: "MEX1012" },
  { name: "only whitespace and a BOM", text: () => "\uFEFF \r\n\t\n", code: "MEX1012" },
  { name: "binary, 64 KB of random bytes with NUL", text: () => Buffer.from(seededBytes(65_536, 1)).toString("utf8") },
  { name: "binary, latin1", text: () => Buffer.from(seededBytes(65_536, 2)).toString("latin1") },
  { name: "a 1 MB line of tokens", text: () => "model m { backbone { stage s { " + "relu ".repeat(200_000) + "} } }" },
  { name: "a 1 MB identifier", text: () => withConstant("x".repeat(1_000_000)) },
  { name: "a 1 MB string", text: () => withConstant(`"${"s".repeat(1_000_000)}"`) },
  { name: "a 1 MB number", text: () => withConstant("9".repeat(1_000_000)) },
  { name: "a 1 MB unterminated comment", text: () => "model m { /*" + "*".repeat(1_000_000) },
  { name: "5 MB valid-syntax spec", text: () => bigSpec(5_000_000), boundMs: 30_000 },
  { name: "5 MB of garbage tokens", text: () => "model m { " + "} ) ] = , ".repeat(500_000), boundMs: 30_000 },
];

describe("extreme inputs", () => {
  const files: { name: string; file: string; errors: number }[] = [];

  for (const c of CASES) {
    it(`${c.name}: invariants hold`, () => {
      const text = c.text();
      // Bounds catch hangs and super-linear blow-ups, not speed (bench/check-speed.ts measures that):
      // about 3x the quiet-machine time, so two trainings running beside the tests do not trip them.
      const outcome = checkInvariants(text, c.boundMs ?? (text.length >= 100_000 ? 20_000 : 5000));
      console.log(`${c.name}: ${(text.length / 1e6).toFixed(2)} MB checked in ${outcome.ms.toFixed(0)} ms, ${outcome.errors} errors`);
      expect(outcome.problems).toEqual([]);
      if (c.code) expect(checkSource(text, "x.mex").diagnostics.map((d) => d.code)).toContain(c.code);
      const file = path.join(tmp, `${c.name.replace(/[^a-z0-9]+/gi, "-")}.mex`);
      writeFileSync(file, text);
      files.push({ name: c.name, file, errors: outcome.errors });
    });
  }

  it("through the CLI (one run over all files): exit 1, a diagnostic for every bad file, no stack trace", () => {
    const bad = files.filter((f) => f.errors > 0);
    expect(bad.length).toBeGreaterThan(10);
    const run = mex(["check", "--format", "json", ...bad.map((f) => f.file)]);
    expect(run.stderr + run.stdout).not.toMatch(STACK_TRACE);
    expect(run.status, run.stderr.slice(0, 500)).toBe(1);
    const perFile = (JSON.parse(run.stdout) as { files: { file: string; diagnostics: { severity: string }[] }[] }).files;
    for (const f of bad) {
      const entry = perFile.find((r) => r.file === f.file);
      expect(entry?.diagnostics.filter((d) => d.severity === "error").length, f.name).toBeGreaterThan(0);
    }
    const good = files.filter((f) => f.errors === 0);
    if (good.length > 0) expect(mex(["check", ...good.map((f) => f.file)]).status).toBe(0);
  }, 120_000);

  it("a raw binary file with NUL bytes through the CLI: exit 1 with a lexical error", () => {
    const file = path.join(tmp, "binary.mex");
    writeFileSync(file, seededBytes(4096, 3));
    const run = mex(["check", file]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("MEX1001");
    expect(run.stderr + run.stdout).not.toMatch(STACK_TRACE);
  });
});
