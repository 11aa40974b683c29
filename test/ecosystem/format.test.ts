/**
 * The formatter: canonical output for hand-written cases, idempotence on every spec and on a corpus of
 * parseable mutations, comments kept, and the checked model (IR) unchanged by formatting.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatSource, normalizeComment, shape } from "../../src/format/format.js";
import { checkSource } from "../../src/check/index.js";
import { parse, tokenize } from "../../src/syntax/parse.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SPECS = readdirSync(path.join(ROOT, "specs"))
  .filter((f) => f.endsWith(".mex"))
  .map((f) => ({ name: f, text: readFileSync(path.join(ROOT, "specs", f), "utf8") }));

function fmt(text: string, width?: number): string {
  const result = formatSource(text, "<test>", width ? { width } : {});
  if (!result.ok) throw new Error(`${result.message}: ${result.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return result.text;
}

/** The IR without positions and source text: what formatting must not change. */
function irShape(text: string): unknown {
  const result = checkSource(text, "<test>");
  if (!result.ir) return { errors: result.diagnostics.map((d) => d.code) };
  const { source: _s, sourceHash: _h, ...rest } = result.ir;
  return shape(rest);
}

const commentTexts = (text: string) => tokenize(text).filter((t) => t.category === "comment").map((t) => normalizeComment(t.text));

describe("canonical style", () => {
  it("normalises spacing, keeps short blocks on one line and entries one per line", () => {
    const input = "model   m{input [8,8,1]\nclasses 3\nbackbone{stage s1{conv(4,kernel = 3)  bn relu maxpool( 2 )}}\nexit e1 after s1{gap dense(classes)}\ntrain{epochs:2, batch:4; seed: 0}}";
    expect(fmt(input)).toBe(
      [
        "model m {",
        "  input [8, 8, 1]",
        "  classes 3",
        "  backbone {",
        "    stage s1 { conv(4, kernel=3) bn relu maxpool(2) }",
        "  }",
        "  exit e1 after s1 { gap dense(classes) }",
        "  train {",
        "    epochs: 2",
        "    batch: 4",
        "    seed: 0",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("keeps the file's line ending: CRLF stays CRLF (also inside block comments), LF stays LF", () => {
    const lf = "model m {\n  /* two\n     lines */\n  input [8, 8, 1]\n  classes 3  // n\n}\n";
    const crlf = lf.replace(/\n/g, "\r\n");
    expect(formatSource(crlf)).toEqual({ ok: true, text: crlf, changed: false });
    expect(formatSource(lf)).toEqual({ ok: true, text: lf, changed: false });
    const messy = "model m {\r\n    input [8,8,1]\n  classes 3\r\n}";
    expect(fmt(messy)).toBe("model m {\r\n  input [8, 8, 1]\r\n  classes 3\r\n}\r\n");
  });

  it("breaks a block that does not fit in the width: one layer per line", () => {
    const input = "model m {\n  backbone {\n    stage s1 { conv(32, kernel=3) bn relu conv(32, kernel=3) bn relu maxpool(2) }\n  }\n}\n";
    expect(fmt(input, 60)).toBe(
      ["model m {", "  backbone {", "    stage s1 {", "      conv(32, kernel=3)", "      bn", "      relu", "      conv(32, kernel=3)", "      bn", "      relu", "      maxpool(2)", "    }", "  }", "}", ""].join(
        "\n",
      ),
    );
  });

  it("keeps layers written on one line together in a multi-line block, and at most one blank line", () => {
    const input = "model m {\n\n\n  backbone {\n    stage s1 {\n      conv(8) bn relu\n\n\n\n      conv(8)   bn relu\n    }\n  }\n\n\n}\n";
    expect(fmt(input)).toBe(["model m {", "  backbone {", "    stage s1 {", "      conv(8) bn relu", "", "      conv(8) bn relu", "    }", "  }", "}", ""].join("\n"));
  });

  it("prints expressions canonically with the parentheses precedence needs", () => {
    const input = "model m {\n  let a = (1 + 2) * 3\n  let b = 1 + (2 * 3)\n  let c = 8 - (4 - 2)\n  let d = -(a + b)\n  let e = ((a))\n}\n";
    expect(fmt(input)).toBe(["model m {", "  let a = (1 + 2) * 3", "  let b = 1 + 2 * 3", "  let c = 8 - (4 - 2)", "  let d = -(a + b)", "  let e = a", "}", ""].join("\n"));
  });

  it("keeps trailing comments trailing (aligned in runs) and own-line comments on their own line", () => {
    const input = [
      "// header",
      "model m { // the model",
      "  distill {",
      "    // who teaches",
      "    teachers: last // T(m)",
      "    weight: 0.5    /* C */",
      "",
      "    temperature: 4",
      "    // dangling",
      "  }",
      "} // end",
      "// footer",
      "",
    ].join("\n");
    expect(fmt(input)).toBe(
      [
        "// header",
        "model m {  // the model",
        "  distill {",
        "    // who teaches",
        "    teachers: last  // T(m)",
        "    weight: 0.5     /* C */",
        "",
        "    temperature: 4",
        "    // dangling",
        "  }",
        "}  // end",
        "// footer",
        "",
      ].join("\n"),
    );
  });

  it("keeps a construct verbatim when a comment sits where the layout has no slot", () => {
    const input = "model m {\n  backbone {\n    stage s1 { conv(8, /* filters */ kernel=3)   bn }\n  }\n}\n";
    const out = fmt(input);
    expect(out).toContain("conv(8, /* filters */ kernel=3)");
    expect(commentTexts(out)).toEqual(["/* filters */"]);
    expect(fmt(out)).toBe(out);
  });

  it("keeps multi-line block comments exactly", () => {
    const input = "model m {\n    /* line one\n       line two */\n  classes 3\n}\n";
    const out = fmt(input);
    expect(out).toContain("/* line one\n       line two */");
    expect(fmt(out)).toBe(out);
  });

  it("refuses files with syntax errors", () => {
    const result = formatSource("model m { backbone { stage s1 { conv(8 } } }", "bad.mex");
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe("syntax");
      expect(result.diagnostics.some((d) => d.code.startsWith("MEX1"))).toBe(true);
    }
  });
});

describe("every spec in specs/", () => {
  it.each(SPECS)("$name: formatting is idempotent, keeps comments and the IR", ({ text }) => {
    const once = fmt(text);
    expect(fmt(once)).toBe(once);
    expect(commentTexts(once)).toEqual(commentTexts(text));
    expect(irShape(once)).toEqual(irShape(text));
  });
});

// -------------------------------------------------------------------------------------------------
// Mutation corpus

/** Pieces of a spec: tokens (comments included) and the whitespace before each. */
function pieces(text: string): { tokens: string[]; spaces: string[]; tail: string } {
  const toks = tokenize(text);
  const spaces: string[] = [];
  let pos = 0;
  for (const t of toks) {
    spaces.push(text.slice(pos, t.span.start));
    pos = t.span.end;
  }
  return { tokens: toks.map((t) => t.text), spaces, tail: text.slice(pos) };
}

function lineBreaks(ws: string): number {
  return (ws.match(/\r\n|\r|\n/g) ?? []).length;
}

/**
 * Same tokens, different whitespace of the same "shape": runs without a line break get 1-3 random
 * spaces/tabs, runs with one break keep one, runs with a blank line keep a blank line. The formatter
 * must produce identical output.
 */
const respacedArb = fc
  .record({ spec: fc.constantFrom(...SPECS), seed: fc.array(fc.nat(5), { minLength: 64, maxLength: 64 }) })
  .map(({ spec, seed }) => {
    const p = pieces(spec.text);
    let k = 0;
    const pick = () => seed[k++ % seed.length]!;
    const blanks = (n: number) => [" ", "\t", "  ", " \t "][n % 4]!;
    const out = p.tokens.map((tok, i) => {
      const ws = p.spaces[i]!;
      const breaks = lineBreaks(ws);
      if (i === 0) return ws + tok;
      if (breaks === 0) return (ws === "" ? "" : blanks(pick())) + tok;
      const newline = pick() % 2 === 0 ? "\n" : "\r\n";
      return (breaks === 1 ? `${blanks(pick())}${newline}${blanks(pick())}` : `${newline}${blanks(pick())}${newline}${"\n".repeat(pick() % 2)}${blanks(pick())}`) + tok;
    });
    return { spec, text: out.join("") + p.tail };
  });

/** Token-level mutations (delete, duplicate, swap, insert a comment); kept only when they parse. */
const mutatedArb = fc
  .record({
    spec: fc.constantFrom(...SPECS),
    ops: fc.array(fc.record({ kind: fc.constantFrom("delete", "duplicate", "swap", "comment", "join", "split"), at: fc.nat() }), { minLength: 1, maxLength: 4 }),
  })
  .map(({ spec, ops }) => {
    const p = pieces(spec.text);
    for (const op of ops) {
      const i = op.at % p.tokens.length;
      if (op.kind === "delete") {
        p.tokens.splice(i, 1);
        p.spaces.splice(i, 1);
      } else if (op.kind === "duplicate") {
        p.tokens.splice(i, 0, p.tokens[i]!);
        p.spaces.splice(i, 0, " ");
      } else if (op.kind === "swap" && i + 1 < p.tokens.length) {
        [p.tokens[i], p.tokens[i + 1]] = [p.tokens[i + 1]!, p.tokens[i]!];
      } else if (op.kind === "comment") {
        p.tokens.splice(i, 0, op.at % 2 === 0 ? "/* note */" : "// note\n");
        p.spaces.splice(i, 0, " ");
      } else if (op.kind === "join" && !p.tokens[i - 1]?.startsWith("//")) {
        p.spaces[i] = " ";
      } else if (op.kind === "split") {
        p.spaces[i] = "\n";
      }
    }
    const text = p.tokens.map((t, i) => p.spaces[i] + t).join("") + p.tail;
    return { spec, text };
  });

describe("mutation corpus", () => {
  it("whitespace changes of the same shape give identical output", () => {
    fc.assert(
      fc.property(respacedArb, ({ spec, text }) => {
        // Line endings follow the file's first break (tested below), the rest must be identical.
        expect(fmt(text).replace(/\r\n/g, "\n")).toBe(fmt(spec.text));
      }),
      { seed: 8, numRuns: 60 },
    );
  });

  it("parseable token mutations: formatting succeeds, is idempotent, keeps comments and the checker's result", () => {
    let parsed = 0;
    fc.assert(
      fc.property(mutatedArb, ({ text }) => {
        if (parse(text, "<m>").diagnostics.some((d) => d.severity === "error")) return;
        parsed++;
        const once = fmt(text);
        expect(fmt(once)).toBe(once);
        expect(commentTexts(once)).toEqual(commentTexts(text));
        expect(irShape(once)).toEqual(irShape(text));
      }),
      { seed: 7, numRuns: 300 },
    );
    // The corpus must actually exercise the formatter, not only be rejected by the parser.
    expect(parsed).toBeGreaterThan(50);
  });
});

describe("deep expressions", () => {
  // The printer walks sums and unary chains with loops; the parser bounds nesting (MEX1014), so stay below it.
  it("formats a long sum and a long unary chain", () => {
    const terms = Array.from({ length: 900 }, (_, i) => String(i % 10)).join(" +  ");
    const out = fmt(`model m {\n  let a = ${terms}\n  let b = ${"-".repeat(900)}1\n}\n`);
    expect(out).toContain(`let a = ${terms.replace(/ \+  /g, " + ")}\n`);
    expect(out).toContain(`let b = ${"-".repeat(900)}1\n`);
  });
});
