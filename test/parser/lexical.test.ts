import { describe, expect, it } from "vitest";
import { KEYWORDS, parse, tokenize } from "../../src/syntax/parse.js";
import type { Expr, ModelItem } from "../../src/syntax/ast.js";

/** The value of `let x = <source>` in a one-line model. */
function valueOf(source: string): Expr {
  const { ast, diagnostics } = parse(`model m { let x = ${source} }`, "t.mex");
  expect(diagnostics).toEqual([]);
  const item = ast.models[0]!.items[0] as Extract<ModelItem, { kind: "let" }>;
  return item.value;
}

describe("numbers", () => {
  it.each([
    ["0", 0],
    ["42", 42],
    ["0.5", 0.5],
    [".5", 0.5],
    ["1e-4", 1e-4],
    ["1.5E3", 1500],
    ["2e+2", 200],
  ])("%s is %d and keeps its raw text", (raw, value) => {
    expect(valueOf(raw)).toMatchObject({ kind: "number", raw, value });
  });

  it("overflow becomes Infinity (the checker reports it)", () => {
    expect(valueOf("1e309")).toMatchObject({ kind: "number", raw: "1e309", value: Infinity });
  });
});

describe("strings", () => {
  it("unescapes \\\" and \\\\ only", () => {
    expect(valueOf('"a\\"b\\\\c"')).toMatchObject({ kind: "string", value: 'a"b\\c' });
    expect(valueOf('"C:\\data"')).toMatchObject({ kind: "string", value: "C:\\data" });
  });

  it("keeps unicode", () => {
    expect(valueOf('"données ✓ 数据"')).toMatchObject({ kind: "string", value: "données ✓ 数据" });
  });
});

describe("expressions", () => {
  it("* / % bind tighter than + -, all left-associative; parentheses widen the span", () => {
    const text = "model m { let x = 1 - 2 - 3 * (4 + 5) % 6 }";
    const item = parse(text, "t.mex").ast.models[0]!.items[0] as Extract<ModelItem, { kind: "let" }>;
    // ((1 - 2) - ((3 * (4 + 5)) % 6))
    expect(item.value).toMatchObject({
      kind: "binary",
      op: "-",
      left: { kind: "binary", op: "-", left: { value: 1 }, right: { value: 2 } },
      right: { kind: "binary", op: "%", left: { kind: "binary", op: "*", left: { value: 3 }, right: { kind: "binary", op: "+" } }, right: { value: 6 } },
    });
    const star = (item.value as Extract<Expr, { kind: "binary" }>).right as Extract<Expr, { kind: "binary" }>;
    const product = star.left as Extract<Expr, { kind: "binary" }>;
    expect(text.slice(product.right.span.start, product.right.span.end)).toBe("(4 + 5)");
    expect(text.slice(item.value.span.start, item.value.span.end)).toBe("1 - 2 - 3 * (4 + 5) % 6");
  });

  it("unary minus nests and spans from its sign", () => {
    expect(valueOf("--x")).toMatchObject({ kind: "unary", span: { start: 18, end: 21 }, operand: { kind: "unary", operand: { kind: "ident", name: "x" } } });
  });

  it("lists and maps accept a trailing comma; entries may end with ',' or ';'", () => {
    const text = "model m { distill { teachers: { e1 <- [e2, e3,], e2 <- e3, }; weight: 0.5, } }";
    const { ast, diagnostics } = parse(text, "t.mex");
    expect(diagnostics).toEqual([]);
    const section = ast.models[0]!.items[0] as Extract<ModelItem, { kind: "section" }>;
    expect(section.entries.map((e) => e.key.name)).toEqual(["teachers", "weight"]);
    expect(section.entries[0]!.value).toMatchObject({
      kind: "map",
      entries: [
        { key: { name: "e1" }, value: { kind: "list", items: [{ name: "e2" }, { name: "e3" }] } },
        { key: { name: "e2" }, value: { kind: "ident", name: "e3" } },
      ],
    });
  });

  it("call arguments accept a trailing comma", () => {
    expect(valueOf("crop(pad=2,)")).toMatchObject({ kind: "call", callee: { name: "crop" }, args: [{ name: { name: "pad" }, value: { value: 2 } }] });
  });
});

describe("keywords and identifiers", () => {
  it("lists the 13 keywords", () => {
    expect(KEYWORDS).toEqual(["model", "input", "classes", "let", "backbone", "stage", "exit", "after", "teachers", "repeat", "residual", "shortcut", "concat"]);
  });

  it("does not split identifiers that start with a keyword", () => {
    const kinds = tokenize("models inputs exits stage_x concatenate repeat2 model").map((t) => [t.type, t.text]);
    expect(kinds).toEqual([
      ["Ident", "models"],
      ["Ident", "inputs"],
      ["Ident", "exits"],
      ["Ident", "stage_x"],
      ["Ident", "concatenate"],
      ["Ident", "repeat2"],
      ["Model", "model"],
    ]);
  });

  it("an unknown layer name is an identifier for the checker to judge", () => {
    const { ast, diagnostics } = parse("model m { backbone { stage s { covn(3) } } }", "t.mex");
    expect(diagnostics).toEqual([]);
    const backbone = ast.models[0]!.items[0] as Extract<ModelItem, { kind: "backbone" }>;
    expect(backbone.items[0]).toMatchObject({ kind: "stage", body: [{ kind: "layer", name: { name: "covn" } }] });
  });
});

describe("tokenize", () => {
  it("returns every token with its category and span, comments and bad characters included", () => {
    const text = "model m { // hi\n  classes 10 @ /* b */ }";
    expect(tokenize(text).map((t) => [t.type, t.category, t.text, t.span.start, t.span.end])).toEqual([
      ["Model", "keyword", "model", 0, 5],
      ["Ident", "identifier", "m", 6, 7],
      ["LBrace", "punctuation", "{", 8, 9],
      ["LineComment", "comment", "// hi", 10, 15],
      ["Classes", "keyword", "classes", 18, 25],
      ["NumberLit", "number", "10", 26, 28],
      ["Invalid", "invalid", "@", 29, 30],
      ["BlockComment", "comment", "/* b */", 31, 38],
      ["RBrace", "punctuation", "}", 39, 40],
    ]);
  });

  it("reads '<-' as one operator and '//' as a comment, not two slashes", () => {
    expect(tokenize("a <- b / c // d").map((t) => t.type)).toEqual(["Ident", "Arrow", "Ident", "Slash", "Ident", "LineComment"]);
  });
});

describe("whitespace and encodings", () => {
  it("CRLF line endings, tabs and a byte-order mark parse like LF and spaces", () => {
    const lf = "model m {\n\tinput [28, 28, 1]\n\tclasses 10 // réseau ✓\n}\n";
    const crlf = "\uFEFF" + lf.replace(/\n/g, "\r\n");
    const a = parse(lf, "a.mex");
    const b = parse(crlf, "b.mex");
    expect(a.diagnostics).toEqual([]);
    expect(b.diagnostics).toEqual([]);
    expect(b.ast.models[0]!.items.map((i) => i.kind)).toEqual(["input", "classes"]);
    expect(b.ast.comments[0]!.text).toBe("// réseau ✓");
    // The comment ends before "\r": spans never include line terminators.
    const comment = b.ast.comments[0]!;
    expect(crlf[comment.span.end]).toBe("\r");
  });

  it("unicode outside comments and strings is one MEX1001 per run", () => {
    const text = "model m { classes 10 日本 }";
    expect(parse(text, "t.mex").diagnostics.map((d) => [d.code, d.span.start, d.span.end, d.message])).toEqual([
      ["MEX1001", 21, 23, "unexpected character '日本'"],
    ]);
  });
});
