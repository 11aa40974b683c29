import { describe, expect, it } from "vitest";
import { parse } from "../../src/syntax/parse.js";
import type { Expr, LayerItem, ModelItem, StageDecl } from "../../src/syntax/ast.js";
import type { Span } from "../../src/ir/model.js";

/** The example of the language brief, verbatim. */
const EXAMPLE = `// specs/fashion-3exit.mex: three exits on a small CNN for 28x28 grayscale images
model fashion3 {
  input [28, 28, 1]
  classes 10
  let width = 32

  backbone {
    stage s1 { conv(width, kernel=3) bn relu maxpool(2) }
    stage s2 { conv(width * 2, kernel=3) bn relu maxpool(2) }
    stage s3 {
      repeat 2 { residual { conv(128, kernel=3) bn relu conv(128, kernel=3) bn } shortcut { conv(128, kernel=1) bn } relu }
      concat { bn relu conv(12, kernel=3) }
    }
  }

  exit e1 after s1 { conv(32, kernel=3, stride=2) bn relu gap dense(classes) }
  exit e2 after s2 teachers [e3] { gap dense(classes) }
  exit e3 after s3 { gap dense(classes) }

  distill {
    teachers: last                       // also: later, none, { e1 <- [e2, e3], e2 <- e3 }
    weight: 0.5
    temperature: adaptive(start=1.0, confidence=0.5, factor=1.05)   // also: 4, linear(from=1, to=4)
  }

  train {
    data: fashion_mnist(per_class=150, val_per_class=50, dir="../data")
    augment: [flip, crop(pad=2)]
    optimizer: sgd(lr=0.1, momentum=0.9, nesterov=true, weight_decay=1e-4)
    schedule: multistep(milestones=[15, 22], gamma=0.1)
    epochs: 30
    batch: 64
    seed: 0
  }
}
`;

const text = (span: Span): string => EXAMPLE.slice(span.start, span.end);

function item<K extends ModelItem["kind"]>(items: readonly ModelItem[], kind: K, index = 0): Extract<ModelItem, { kind: K }> {
  const found = items.filter((i) => i.kind === kind);
  return found[index] as Extract<ModelItem, { kind: K }>;
}

describe("the example spec", () => {
  const { ast, diagnostics } = parse(EXAMPLE, "fashion-3exit.mex");
  const model = ast.models[0]!;

  it("parses with zero diagnostics", () => {
    expect(diagnostics).toEqual([]);
    expect(ast.models).toHaveLength(1);
    expect(ast.span).toEqual({ start: 0, end: EXAMPLE.length });
  });

  it("has the model items in source order", () => {
    expect(model.name.name).toBe("fashion3");
    expect(text(model.name.span)).toBe("fashion3");
    expect(model.items.map((i) => i.kind)).toEqual(["input", "classes", "let", "backbone", "exit", "exit", "exit", "section", "section"]);
    // The model runs from `model` (offset 82: after the 81-char comment line and its newline) to the final `}`.
    expect(model.span).toEqual({ start: 82, end: EXAMPLE.length - 1 });
  });

  it("reads input, classes and let", () => {
    const input = item(model.items, "input");
    expect(text(input.span)).toBe("input [28, 28, 1]");
    expect(input.value.kind).toBe("list");
    const list = input.value as Extract<Expr, { kind: "list" }>;
    expect(list.items.map((e) => (e.kind === "number" ? e.value : null))).toEqual([28, 28, 1]);
    expect(item(model.items, "classes").value).toMatchObject({ kind: "number", value: 10, raw: "10" });
    const width = item(model.items, "let");
    expect(width.name.name).toBe("width");
    expect(text(width.span)).toBe("let width = 32");
  });

  it("builds the backbone's stages, with spans that map back to the text", () => {
    const backbone = item(model.items, "backbone");
    const stages = backbone.items as StageDecl[];
    expect(stages.map((s) => s.name.name)).toEqual(["s1", "s2", "s3"]);
    const s2 = stages[1]!;
    expect(text(s2.span)).toBe("stage s2 { conv(width * 2, kernel=3) bn relu maxpool(2) }");
    const conv = s2.body[0] as Extract<LayerItem, { kind: "layer" }>;
    const convAt = EXAMPLE.indexOf("conv(width * 2");
    expect(conv.name.span).toEqual({ start: convAt, end: convAt + 4 });
    expect(text(conv.name.span)).toBe("conv");
    expect(text(conv.span)).toBe("conv(width * 2, kernel=3)");
    expect(conv.args).toHaveLength(2);
    const [filters, kernel] = conv.args!;
    expect(filters!.name).toBeNull();
    expect(filters!.value).toMatchObject({ kind: "binary", op: "*", left: { kind: "ident", name: "width" }, right: { kind: "number", value: 2 } });
    expect(text(filters!.value.span)).toBe("width * 2");
    expect(kernel!.name!.name).toBe("kernel");
    expect(text(kernel!.span)).toBe("kernel=3");
    expect(s2.body.map((l) => (l.kind === "layer" ? [l.name.name, l.args === null] : l.kind))).toEqual([
      ["conv", false],
      ["bn", true],
      ["relu", true],
      ["maxpool", false],
    ]);
  });

  it("nests repeat, residual with shortcut, and concat", () => {
    const s3 = (item(model.items, "backbone").items as StageDecl[])[2]!;
    expect(s3.body.map((l) => l.kind)).toEqual(["repeat", "concat"]);
    const repeat = s3.body[0] as Extract<LayerItem, { kind: "repeat" }>;
    expect(repeat.count).toMatchObject({ kind: "number", value: 2 });
    expect(repeat.body.map((l) => l.kind)).toEqual(["residual", "layer"]);
    const residual = repeat.body[0] as Extract<LayerItem, { kind: "residual" }>;
    expect(residual.body).toHaveLength(5);
    expect(residual.shortcut).toHaveLength(2);
    expect(text(residual.span)).toBe(
      "residual { conv(128, kernel=3) bn relu conv(128, kernel=3) bn } shortcut { conv(128, kernel=1) bn }",
    );
    const concat = s3.body[1] as Extract<LayerItem, { kind: "concat" }>;
    expect(concat.body).toHaveLength(3);
    expect(text(concat.span)).toBe("concat { bn relu conv(12, kernel=3) }");
  });

  it("reads exits with their stage, teachers and head", () => {
    const exits = model.items.filter((i) => i.kind === "exit") as Extract<ModelItem, { kind: "exit" }>[];
    expect(exits.map((e) => [e.name.name, e.after.name])).toEqual([
      ["e1", "s1"],
      ["e2", "s2"],
      ["e3", "s3"],
    ]);
    expect(exits[0]!.teachers).toBeNull();
    expect(exits[0]!.head).toHaveLength(5);
    expect(exits[1]!.teachers).toMatchObject({ kind: "list", items: [{ kind: "ident", name: "e3" }] });
    expect(text(exits[1]!.teachers!.span)).toBe("[e3]");
    // `classes` is a keyword but a name inside expressions.
    const dense = exits[2]!.head[1] as Extract<LayerItem, { kind: "layer" }>;
    expect(dense.args![0]!.value).toMatchObject({ kind: "ident", name: "classes" });
    expect(text(exits[2]!.span)).toBe("exit e3 after s3 { gap dense(classes) }");
  });

  it("reads sections as key: value entries", () => {
    const distill = item(model.items, "section", 0);
    expect(distill.name.name).toBe("distill");
    expect(distill.entries.map((e) => e.key.name)).toEqual(["teachers", "weight", "temperature"]);
    expect(distill.entries[0]!.value).toMatchObject({ kind: "ident", name: "last" });
    expect(text(distill.entries[1]!.span)).toBe("weight: 0.5");
    const temperature = distill.entries[2]!.value as Extract<Expr, { kind: "call" }>;
    expect(temperature.callee.name).toBe("adaptive");
    expect(temperature.args.map((a) => [a.name?.name, a.value.kind === "number" ? a.value.value : null])).toEqual([
      ["start", 1],
      ["confidence", 0.5],
      ["factor", 1.05],
    ]);

    const train = item(model.items, "section", 1);
    expect(train.entries.map((e) => e.key.name)).toEqual(["data", "augment", "optimizer", "schedule", "epochs", "batch", "seed"]);
    const data = train.entries[0]!.value as Extract<Expr, { kind: "call" }>;
    expect(data.args[2]!.value).toEqual({ kind: "string", value: "../data", span: data.args[2]!.value.span });
    expect(text(data.args[2]!.value.span)).toBe('"../data"');
    const optimizer = train.entries[2]!.value as Extract<Expr, { kind: "call" }>;
    expect(optimizer.args[3]!.value).toMatchObject({ kind: "number", raw: "1e-4", value: 1e-4 });
    expect(optimizer.args[2]!.value).toMatchObject({ kind: "ident", name: "true" });
    const schedule = train.entries[3]!.value as Extract<Expr, { kind: "call" }>;
    expect(schedule.args[0]!.value).toMatchObject({ kind: "list", items: [{ value: 15 }, { value: 22 }] });
  });

  it("collects the three comments", () => {
    expect(ast.comments.map((c) => c.block)).toEqual([false, false, false]);
    expect(ast.comments[0]!.span.start).toBe(0);
    expect(ast.comments[0]!.text).toBe("// specs/fashion-3exit.mex: three exits on a small CNN for 28x28 grayscale images");
    expect(text(ast.comments[1]!.span)).toBe("// also: later, none, { e1 <- [e2, e3], e2 <- e3 }");
    expect(ast.comments[2]!.text).toBe("// also: 4, linear(from=1, to=4)");
  });
});
