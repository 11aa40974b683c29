/** Completion contexts and hover, as pure functions (the stdio test covers the protocol). */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { completionsAt, hoverAt } from "../../src/lsp/analysis.js";
import { checkSource } from "../../src/check/index.js";
import { parse } from "../../src/syntax/parse.js";
import { ROOT } from "./helpers.js";

/** Completion labels at the `|` in `text`. */
function at(text: string): string[] {
  const offset = text.indexOf("|");
  const clean = text.slice(0, offset) + text.slice(offset + 1);
  return completionsAt(clean, offset, parse(clean, "<t>").ast).map((c) => c.label);
}

const HEAD = "model m {\n  input [8, 8, 1]\n  classes 3\n  let w = 4\n  backbone {\n    stage s1 { conv(w) }\n    stage s2 { relu }\n  }\n";

describe("completion contexts", () => {
  it("layer bodies: stages, exit heads (with and without teachers), repeat/residual/shortcut/concat", () => {
    for (const text of [
      `${HEAD}  exit e1 after s1 { | }\n}`,
      `${HEAD}  exit e1 after s1 teachers [e2] { gap | }\n}`,
      `${HEAD}  exit e1 after s1 teachers { e1 <- e2 } { | }\n}`,
      "model m { backbone { stage s { repeat 2 * 3 { | } } } }",
      "model m { backbone { stage s { residual { relu } shortcut { | } } } }",
      "model m { backbone { stage s { concat { bn | } } } }",
    ]) {
      expect(at(text)).toContain("dense");
    }
  });

  it("model level, backbone, exit header", () => {
    expect(at(`${HEAD}  |\n}`)).toEqual(["input", "classes", "let", "backbone", "exit", "distill", "train"]);
    expect(at("model m { backbone { | } }")).toEqual(["stage", "let"]);
    expect(at(`${HEAD}  exit e1 after |`)).toEqual(["s1", "s2"]);
  });

  it("parameters of a layer, keyword values after `name=`, constants", () => {
    expect(at("model m { backbone { stage s { maxpool(|) } } }")).toEqual(expect.arrayContaining(["size", "stride", "padding"]));
    expect(at("model m { backbone { stage s { conv(8, padding=|) } } }")).toEqual(expect.arrayContaining(["same", "valid"]));
    expect(at(`${HEAD.replace("conv(w)", "conv(|)")}}`)).toEqual(expect.arrayContaining(["filters", "w", "classes"]));
  });

  it("sections: option keys, then variants or values, then variant parameters", () => {
    expect(at(`${HEAD}  train {\n    |\n  }\n}`)).toEqual(["data", "augment", "optimizer", "schedule", "epochs", "batch", "seed", "out"]);
    expect(at(`${HEAD}  train {\n    optimizer: |\n  }\n}`)).toEqual(["sgd", "adam"]);
    expect(at(`${HEAD}  train {\n    optimizer: sgd(|)\n  }\n}`)).toEqual(["lr", "momentum", "nesterov", "weight_decay"]);
    expect(at(`${HEAD}  train {\n    epochs: 3, |\n  }\n}`)).toContain("batch");
    expect(at(`${HEAD}  distill {\n    temperature: |\n  }\n}`)).toEqual(["adaptive", "linear", "constant"]);
    expect(at(`${HEAD}  train {\n    augment: [flip, |]\n  }\n}`)).toEqual(["flip", "crop"]);
  });
});

describe("hover", () => {
  const text = readFileSync(path.join(ROOT, "specs/resnet20-cifar.mex"), "utf8");
  const result = checkSource(text, "resnet20-cifar.mex");

  it("a layer inside `repeat` names its first expansion and the count", () => {
    const offset = text.indexOf("conv(w1", text.indexOf("repeat 3")) + 1;
    const hover = hoverAt(result, offset)!;
    expect(hover.contents).toContain("**conv** `s1/repeat/r0/residual/conv` (x3, repeated)");
    // conv(16, 3x3, no bias) on [32, 32, 16]: 3*3*16*16 = 2,304 params; 32*32*16*144 = 2,359,296 MACs.
    expect(hover.contents).toContain("params 2,304 · MACs 2,359,296 (2.36M) (each)");
  });

  it("a stage name shows its output shape and the backbone MACs up to it", () => {
    const offset = text.indexOf("stage s2") + "stage ".length;
    expect(hoverAt(result, offset)!.contents).toContain("output `[16, 16, 32]` from input `[32, 32, 16]`");
  });

  it("a layer in a file with errors still shows its shape when it could be inferred", () => {
    const broken = "model m {\n  input [8, 8, 1]\n  classes 3\n  backbone { stage s1 { conv(4) covn } }\n  exit e1 after s1 { gap dense(classes) }\n}\n";
    const r = checkSource(broken);
    expect(r.ir).toBeNull();
    const hover = hoverAt(r, broken.indexOf("conv(4)") + 1)!;
    expect(hover.contents).toContain("output `[8, 8, 4]`");
  });
});
