import { describe, expect, it } from "vitest";
import { parse } from "../../src/syntax/parse.js";
import type { Diagnostic } from "../../src/diagnostics/diagnostic.js";

/** code, span and message of each diagnostic: what the assertions compare. */
function summary(text: string): { code: string; start: number; end: number; message: string }[] {
  return parse(text, "t.mex").diagnostics.map((d: Diagnostic) => ({ code: d.code, start: d.span.start, end: d.span.end, message: d.message }));
}

describe("lexical errors", () => {
  it("MEX1001: one diagnostic per run of bad characters", () => {
    // "model m { classes 2 " is 20 characters.
    expect(summary("model m { classes 2 @@@ # }")).toEqual([
      { code: "MEX1001", start: 20, end: 23, message: "unexpected character '@@@'" },
      { code: "MEX1001", start: 24, end: 25, message: "unexpected character '#'" },
    ]);
  });

  it("MEX1001: control characters are shown escaped", () => {
    expect(summary("model m {\u0001} ")[0]).toMatchObject({ code: "MEX1001", start: 9, end: 10, message: "unexpected character '\\u{1}'" });
  });

  it("MEX1002: an unterminated string spans to the end of its line and still parses as a string", () => {
    const text = 'model m {\n  train { dir: "../data\n  }\n}\n';
    const start = text.indexOf('"');
    expect(summary(text)).toEqual([{ code: "MEX1002", start, end: start + '"../data'.length, message: "unterminated string" }]);
    const section = parse(text, "t.mex").ast.models[0]!.items[0]!;
    expect(section).toMatchObject({ kind: "section", entries: [{ key: { name: "dir" }, value: { kind: "string", value: "../data" } }] });
  });

  it("MEX1003: an unterminated block comment points at its opening /*", () => {
    const result = parse("model m { }\n/* open", "t.mex");
    expect(result.diagnostics.map((d) => [d.code, d.span.start, d.span.end])).toEqual([["MEX1003", 12, 14]]);
    expect(result.ast.comments).toEqual([{ text: "/* open", span: { start: 12, end: 19 }, block: true }]);
  });
});

describe("syntax errors", () => {
  it("MEX1010: a missing '}' names the construct it should close", () => {
    const text = "model m {\n  backbone {\n    stage s1 { conv(32) bn\n    stage s2 { relu }\n  }\n}\n";
    const at = text.indexOf("stage s2");
    expect(summary(text)).toEqual([
      { code: "MEX1010", start: at, end: at + 5, message: "expected '}' to close stage 's1' but found 'stage'" },
    ]);
  });

  it("MEX1010: at end of input the span is the last character", () => {
    // "model m {" : the '{' at offset 8 is the last character.
    expect(summary("model m {")).toEqual([
      { code: "MEX1010", start: 8, end: 9, message: "expected '}' to close model 'm' but found end of input" },
    ]);
    expect(summary("model m { input [28, 28\n\n")).toEqual([
      { code: "MEX1010", start: 22, end: 23, message: "expected ']' to close a list but found end of input" },
    ]);
  });

  it("MEX1010: a missing name becomes an empty Ident with a zero-width span at the error", () => {
    const text = "model m { exit e1 after { gap } }";
    expect(summary(text)).toEqual([{ code: "MEX1010", start: 24, end: 25, message: "expected a name but found '{'" }]);
    const exit = parse(text, "t.mex").ast.models[0]!.items[0]!;
    expect(exit).toMatchObject({ kind: "exit", name: { name: "e1" }, after: { name: "", span: { start: 24, end: 24 } } });
    expect(exit.kind === "exit" && exit.head.length).toBe(1);
  });

  it("MEX1010: a missing ':' in a section", () => {
    expect(summary("model m { train { lr 0.1 } }")).toEqual([{ code: "MEX1010", start: 21, end: 24, message: "expected ':' but found '0.1'" }]);
  });

  it("MEX1011: no viable alternative in an expression, with an error expression in the tree", () => {
    const text = "model m { train { lr: } }";
    expect(summary(text)).toEqual([
      {
        code: "MEX1011",
        start: 22,
        end: 23,
        message: "unexpected '}' in section 'train'; expected a value (a number, a string, a name, '(', '[' or '{')",
      },
    ]);
    const section = parse(text, "t.mex").ast.models[0]!.items[0]!;
    expect(section).toMatchObject({ kind: "section", entries: [{ key: { name: "lr" }, value: { kind: "error" } }] });
  });

  it("MEX1011: trailing input after the model", () => {
    expect(summary("model m {} }")).toEqual([{ code: "MEX1011", start: 11, end: 12, message: "unexpected '}' outside of a model" }]);
  });

  it("MEX1011: input before the model, and a keyword prefix that is a name", () => {
    expect(summary("models m")).toEqual([{ code: "MEX1011", start: 0, end: 6, message: "unexpected 'models' outside of a model" }]);
    const result = parse("x model m {} z", "t.mex");
    expect(result.diagnostics.map((d) => [d.code, d.span.start])).toEqual([
      ["MEX1011", 0],
      ["MEX1011", 13],
    ]);
    expect(result.ast.models.map((m) => m.name.name)).toEqual(["m"]);
  });

  it("MEX1012: no model in an empty or comment-only file", () => {
    expect(summary("")).toEqual([{ code: "MEX1012", start: 0, end: 0, message: "the file contains no model" }]);
    expect(summary("// nothing\n/* here */\n")).toEqual([{ code: "MEX1012", start: 0, end: 0, message: "the file contains no model" }]);
    expect(parse("", "t.mex").diagnostics[0]!.hint).toContain("model");
  });

  it("MEX1013: a second model, at its name; both models are kept", () => {
    const text = "model a { classes 2 }\nmodel b { }\n";
    expect(summary(text)).toEqual([{ code: "MEX1013", start: 28, end: 29, message: "only one model per file; found another model 'b'" }]);
    expect(parse(text, "t.mex").ast.models.map((m) => m.name.name)).toEqual(["a", "b"]);
  });

  it("two independent syntax errors in different stages are both reported, and later stages survive", () => {
    const text = "model m { backbone { stage s1 { conv(32 bn } stage s2 { relu 42 relu } stage s3 { gap } } }";
    const ds = summary(text);
    expect(ds.map((d) => [d.code, d.start, d.end])).toEqual([
      ["MEX1010", text.indexOf("bn"), text.indexOf("bn") + 2],
      ["MEX1010", text.indexOf("42"), text.indexOf("42") + 2],
    ]);
    expect(ds[0]!.message).toBe("expected ')' to close the arguments of 'conv' but found 'bn'");
    expect(ds[1]!.message).toBe("expected '}' to close stage 's2' but found '42'");
    const backbone = parse(text, "t.mex").ast.models[0]!.items[0]!;
    expect(backbone.kind === "backbone" && backbone.items.map((s) => s.name.name)).toEqual(["s1", "s2", "s3"]);
  });

  it("every diagnostic carries the file name and error severity", () => {
    const [d] = parse("model m {", "specs/x.mex").diagnostics;
    expect(d).toMatchObject({ file: "specs/x.mex", severity: "error" });
  });
});

describe("depth guard (MEX1014)", () => {
  it("reports the first bracket beyond 200 levels and does not parse", () => {
    // `model m {` is level 1, so the 200th '(' is level 201.
    const text = "model m { let x = " + "(".repeat(10_000) + "1" + ")".repeat(10_000) + " }";
    const at = "model m { let x = ".length + 199;
    const result = parse(text, "t.mex");
    expect(result.diagnostics.map((d) => [d.code, d.span.start, d.span.end, d.message])).toEqual([
      ["MEX1014", at, at + 1, "nesting deeper than 200 levels"],
    ]);
    expect(result.ast.models).toEqual([]);
  });

  it("parses nesting of exactly 200 levels without error", () => {
    const text = "model m { let x = " + "(".repeat(199) + "1" + ")".repeat(199) + " }";
    const result = parse(text, "t.mex");
    expect(result.diagnostics).toEqual([]);
    const value = result.ast.models[0]!.items[0]!;
    expect(value.kind === "let" && value.value).toMatchObject({ kind: "number", value: 1 });
  });

  it("guards nested repeat blocks and lists alike", () => {
    const repeats = "model m { backbone { stage s { " + "repeat 1 { ".repeat(10_000) + "relu" + " }".repeat(10_000) + " } } }";
    expect(summary(repeats).map((d) => d.code)).toEqual(["MEX1014"]);
    const lists = "model m { input " + "[".repeat(5_000) + "]".repeat(5_000) + " }";
    expect(summary(lists).map((d) => d.code)).toEqual(["MEX1014"]);
  });

  it("a long chain of unary minus is a loop, not recursion", () => {
    const text = "model m { let x = " + "-".repeat(100_000) + "1 }";
    expect(summary(text)).toEqual([]);
  });
});
