/**
 * Golden corpus: every test/cases/*.mex holds one mistake (or, for multi-*.mex, several) and starts with
 *   // expect: MEX2001@7:16 MEX3004@20:13
 * (code@line:column, 1-based, in the order `mex check` reports them). The test asserts
 *  (a) the checker's diagnostics equal that line exactly, and
 *  (b) the text output, exactly as `mex check` prints it (the CLI's runCheck, no colour), equals
 *      test/baselines/<name>.txt.
 * UPDATE_BASELINES=1 rewrites the baselines instead of comparing (review the diff by eye).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";
import { CODES } from "../../src/diagnostics/codes.js";
import { locate } from "../../src/diagnostics/render.js";
import { DEFAULT_LIMITS } from "../../src/check/index.js";
import { runCheck } from "../../src/cli/check.js";

const CASES = "test/cases";
const BASELINES = "test/baselines";
const UPDATE = process.env.UPDATE_BASELINES === "1";

/** Codes no spec can trigger, with the reason (kept short so a new dead code is noticed). */
const UNTRIGGERABLE: Record<string, string> = {
  // Reported instead of MEX3009 only when `--set train.epochs=N` shortened the run: no spec file alone triggers it.
  MEX3906: "only with a command-line override of train.epochs",
};

const files = readdirSync(CASES).filter((f) => f.endsWith(".mex")).sort();

export function parseExpect(text: string): string[] {
  const first = text.split(/\r?\n/, 1)[0] ?? "";
  const match = /^\/\/ expect:(.*)$/.exec(first);
  if (!match) throw new Error("first line must be `// expect: CODE@line:col ...`");
  return match[1]!.trim().split(/\s+/).filter(Boolean);
}

/** The checker's diagnostics as code@line:col. */
function positions(file: string, text: string): string[] {
  const result = checkSource(text, file);
  return result.diagnostics.map((d) => {
    const loc = locate(d, result.source);
    return `${d.code}@${loc.line}:${loc.column}`;
  });
}

/** Exactly what `mex check FILE` prints on stdout without colour: the CLI's own runCheck, captured. */
async function renderLikeCli(file: string): Promise<string> {
  let out = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      out += String(chunk);
      done();
    },
  });
  await runCheck([file], "text", DEFAULT_LIMITS, { stdout: sink, stderr: sink });
  return out;
}

describe("golden corpus", () => {
  it("has at least 45 single-mistake cases and 6 with several", () => {
    const multi = files.filter((f) => f.startsWith("multi-"));
    expect(files.length - multi.length).toBeGreaterThanOrEqual(45);
    expect(multi.length).toBeGreaterThanOrEqual(6);
    for (const f of multi) expect(parseExpect(readFileSync(path.join(CASES, f), "utf8")).length, f).toBeGreaterThan(1);
  });

  it("covers every code that can be triggered", () => {
    const seen = new Set(files.flatMap((f) => parseExpect(readFileSync(path.join(CASES, f), "utf8")).map((e) => e.split("@")[0]!)));
    const missing = Object.keys(CODES).filter((code) => !seen.has(code) && !(code in UNTRIGGERABLE));
    expect(missing).toEqual([]);
    for (const code of Object.keys(UNTRIGGERABLE)) expect(seen.has(code), `${code} is listed as untriggerable but a case triggers it`).toBe(false);
  });

  for (const file of files) {
    const name = file.replace(/\.mex$/, "");
    it(name, async () => {
      const specPath = `${CASES}/${file}`;
      const text = readFileSync(specPath, "utf8");
      expect(positions(specPath, text)).toEqual(parseExpect(text));
      const output = await renderLikeCli(specPath);
      const baseline = path.join(BASELINES, `${name}.txt`);
      if (UPDATE) {
        mkdirSync(BASELINES, { recursive: true });
        writeFileSync(baseline, output);
        return;
      }
      expect(existsSync(baseline), `missing baseline ${baseline} (run with UPDATE_BASELINES=1)`).toBe(true);
      expect(output).toBe(readFileSync(baseline, "utf8"));
    });
  }
});
