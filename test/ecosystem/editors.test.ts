/** The TextMate grammar and the VS Code manifest: valid JSON, patterns compile, vocabulary covered. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { KEYWORDS } from "../../src/syntax/parse.js";
import { LAYERS } from "../../src/ops/index.js";
import { DISTILL_OPTIONS } from "../../src/check/distill.js";
import { TRAIN_OPTIONS } from "../../src/check/train.js";
import { ROOT } from "./helpers.js";

const grammarPath = path.join(ROOT, "editors/textmate/mex.tmLanguage.json");
const grammar = JSON.parse(readFileSync(grammarPath, "utf8")) as { scopeName: string; patterns: { include: string }[]; repository: Record<string, any> };

/** Alternatives of a `\b(a|b|c)\b` rule. */
function words(rule: string): string[] {
  const match = /\(([A-Za-z0-9_|]+)\)/.exec(grammar.repository[rule].match as string);
  return match ? match[1]!.split("|") : [];
}

function allRegexes(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => allRegexes(n, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if ((k === "match" || k === "begin" || k === "end") && typeof v === "string") out.push(v);
      else allRegexes(v, out);
    }
  }
  return out;
}

describe("TextMate grammar", () => {
  it("is valid JSON with scope source.mex and every included rule defined", () => {
    expect(grammar.scopeName).toBe("source.mex");
    for (const p of grammar.patterns) expect(grammar.repository[p.include.slice(1)]).toBeDefined();
  });

  it("every pattern compiles", () => {
    const regexes = allRegexes(grammar.repository);
    expect(regexes.length).toBeGreaterThan(10);
    for (const source of regexes) expect(() => new RegExp(source)).not.toThrow();
  });

  it("covers the parser's keywords, every layer and the section names", () => {
    expect(new Set(words("keywords"))).toEqual(new Set(KEYWORDS));
    expect(new Set(words("layers"))).toEqual(new Set(LAYERS.keys()));
    expect(words("section")).toEqual(["distill", "train"]);
  });

  it("highlights a spec line as expected", () => {
    const line = "  stage s1 { conv(32, kernel=3) bn relu maxpool(2) }  // first";
    const keyword = new RegExp(grammar.repository.keywords.match, "g");
    const layer = new RegExp(grammar.repository.layers.match, "g");
    const number = new RegExp(grammar.repository.numbers.match, "g");
    expect(line.match(keyword)).toEqual(["stage"]);
    expect(line.match(layer)).toEqual(["conv", "bn", "relu", "maxpool"]);
    expect(line.match(number)).toEqual(["32", "3", "2"]);
    expect("x // c".match(new RegExp(grammar.repository.comments.patterns[0].match))?.[0]).toBe("// c");
    // `s1` is a name, not a number.
    expect("s1".match(number)).toBeNull();
  });

  it("option keys of both sections are highlighted as properties", () => {
    const key = new RegExp(grammar.repository["entry-key"].match);
    for (const o of [...DISTILL_OPTIONS, ...TRAIN_OPTIONS]) expect(key.exec(`${o.name}: 1`)?.[1]).toBe(o.name);
  });
});

describe("VS Code extension manifest", () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "editors/vscode/package.json"), "utf8"));

  it("points to the grammar, the language configuration and `mex lsp`", () => {
    expect(pkg.contributes.languages[0].extensions).toEqual([".mex"]);
    const grammarRef = pkg.contributes.grammars[0];
    expect(grammarRef.scopeName).toBe("source.mex");
    expect(path.resolve(ROOT, "editors/vscode", grammarRef.path)).toBe(grammarPath);
    JSON.parse(readFileSync(path.resolve(ROOT, "editors/vscode", pkg.contributes.languages[0].configuration), "utf8"));
    const extension = readFileSync(path.resolve(ROOT, "editors/vscode", pkg.main), "utf8");
    expect(extension).toContain('args: ["lsp"]');
  });
});
