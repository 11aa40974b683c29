import { describe, expect, it } from "vitest";
import { parse, tokenize } from "../../src/syntax/parse.js";
import type { SpecFile } from "../../src/syntax/ast.js";
import { Rng } from "../../src/data/rng.js";

/** Uniform [0, 1) numbers from the project's seeded generator, so runs reproduce. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** A valid spec of at least `size` characters: many stages with nested blocks and comments. */
function bigSpec(size: number): string {
  const parts = ["model big {\n  input [28, 28, 1]\n  classes 10\n  let width = 32\n  backbone {\n"];
  let length = parts[0]!.length;
  for (let i = 0; length < size; i++) {
    const stage = `    stage s${i} { conv(width * 2 + ${i}, kernel=3, padding=same) bn relu repeat 2 { residual { conv(64, kernel=3) bn } } } // stage ${i}\n`;
    parts.push(stage);
    length += stage.length;
  }
  parts.push("  }\n  exit e after s0 { gap dense(classes) }\n  train { epochs: 30, lr: 1e-3 }\n}\n");
  return parts.join("");
}

/** Every span lies inside the text, and no property the types require is undefined. */
function checkTree(ast: SpecFile, textLength: number): void {
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === undefined) throw new Error("undefined in the syntax tree");
    if (node === null || typeof node !== "object") continue;
    const span = (node as { span?: { start: number; end: number } }).span;
    if (span && !(span.start >= 0 && span.start <= span.end && span.end <= textLength)) {
      throw new Error(`bad span ${JSON.stringify(span)} in a text of ${textLength} characters`);
    }
    for (const value of Object.values(node)) stack.push(value);
  }
}

describe("robustness", () => {
  it("parses a generated 1 MB spec quickly", () => {
    const text = bigSpec(1_000_000);
    parse("model warm { classes 2 }", "warm.mex");
    const t0 = performance.now();
    const { ast, diagnostics } = parse(text, "big.mex");
    const ms = performance.now() - t0;
    console.log(`parse: ${(text.length / 1e6).toFixed(2)} MB in ${ms.toFixed(0)} ms`);
    expect(diagnostics).toEqual([]);
    const backbone = ast.models[0]!.items.find((i) => i.kind === "backbone");
    expect(backbone?.kind === "backbone" && backbone.items.length).toBeGreaterThan(7000);
    expect(ms).toBeLessThan(5000);
  });

  it("tolerates a 5 MB spec", () => {
    const text = bigSpec(5_000_000);
    const t0 = performance.now();
    const { diagnostics } = parse(text, "huge.mex");
    console.log(`parse: ${(text.length / 1e6).toFixed(2)} MB in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(diagnostics).toEqual([]);
  });

  it("never throws on 2,000 random byte strings, and reports sane spans", () => {
    const random = prng(20190);
    for (let i = 0; i < 2000; i++) {
      const length = Math.floor(random() * 300);
      let text = "";
      for (let j = 0; j < length; j++) text += String.fromCharCode(Math.floor(random() * 256));
      const { ast, diagnostics } = parse(text, "garbage.mex");
      expect(diagnostics.length).toBeGreaterThan(0);
      for (const d of diagnostics) {
        expect(d.span.start).toBeGreaterThanOrEqual(0);
        expect(d.span.end).toBeLessThanOrEqual(text.length);
        expect(d.message).not.toContain("internal parser error");
      }
      checkTree(ast, text.length);
      tokenize(text);
    }
  });

  it("never throws on 2,000 token soups built from the language's own words", () => {
    const words = ["model", "m", "{", "}", "(", ")", "[", "]", ",", ";", ":", "=", "<-", "-", "+", "*", "/", "%", "stage", "exit", "after", "teachers",
      "repeat", "residual", "shortcut", "concat", "backbone", "let", "input", "classes", "1", "2.5", '"s"', '"x', "/*", "*/", "//", "\n", "conv", "@"];
    const random = prng(7);
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(random() * 80);
      const parts: string[] = [];
      for (let j = 0; j < n; j++) parts.push(words[Math.floor(random() * words.length)]!);
      const text = parts.join(random() < 0.5 ? " " : "");
      const { ast, diagnostics } = parse(text, "soup.mex");
      for (const d of diagnostics) expect(d.message).not.toContain("internal parser error");
      checkTree(ast, text.length);
    }
  });

  it("stops after 100 syntax errors instead of reporting (or recursing) without bound", () => {
    const text = "model m { backbone { stage s { " + "relu 1 ".repeat(20_000) + "} } }";
    const { diagnostics } = parse(text, "errors.mex");
    expect(diagnostics).toHaveLength(101);
    expect(diagnostics[100]!.message).toMatch(/more than 100 syntax errors, stopped here$/);
  });

  it("a 200,000-term sum parses (the tree is deep, the parse is not)", () => {
    const text = "model m { let x = " + "1 + ".repeat(200_000) + "1 }";
    expect(parse(text, "sum.mex").diagnostics).toEqual([]);
  });
});
