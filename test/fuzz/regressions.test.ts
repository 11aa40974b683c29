/**
 * Every input that once broke the front end (found by fuzzing) stays here, with the codes it must
 * now produce on a `// expect: MEX....` line: the invariants hold and the CLI exits 1, no stack trace.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";
import { checkInvariants } from "./invariants.js";
import { ensureBuilt, mex, STACK_TRACE } from "../helpers/cli.js";

const DIR = path.join(import.meta.dirname, "regressions");
const FILES = readdirSync(DIR).filter((f) => f.endsWith(".mex")).sort();

beforeAll(() => ensureBuilt(), 180_000);

describe("fuzz regressions", () => {
  it("has regression inputs", () => expect(FILES.length).toBeGreaterThan(0));

  for (const name of FILES) {
    it(name, () => {
      const text = readFileSync(path.join(DIR, name), "utf8");
      const outcome = checkInvariants(text);
      expect(outcome.problems).toEqual([]);
      const expected = [...text.matchAll(/^\/\/ expect: (.+)$/gm)].flatMap((m) => m[1]!.split(/[ ,]+/));
      const codes = checkSource(text, name).diagnostics.map((d) => d.code);
      for (const code of expected) expect(codes).toContain(code);
    });
  }

  it("the CLI exits 1 on all of them, without a stack trace", () => {
    const run = mex(["check", ...FILES.map((f) => path.join(DIR, f))]);
    expect(run.stdout + run.stderr).not.toMatch(STACK_TRACE);
    expect(run.status).toBe(1);
  });
});
