/** Hand-computed checks of the exporter's small pieces, determinism and metadata. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { extractWeights } from "../../src/backends/tfjs/weights.js";
import {
  chooseFromEval,
  decodeModel,
  earlyExitCosts,
  exportOnnx,
  irVersionFor,
  OnnxExportError,
  parseMacs,
  parseThresholds,
  samePads,
} from "../../src/backends/onnx/index.js";
import { transpose4 } from "../../src/backends/onnx/lower.js";
import { toJson } from "../../src/eval/report.js";
import { irOf } from "./helpers.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("samePads (TensorFlow's rule)", () => {
  it("odd kernel, stride 1: symmetric", () => expect(samePads(28, 28, 3, 1, 1)).toEqual([1, 1]));
  it("stride 2 on an even input: the single pad goes at the end", () => expect(samePads(28, 14, 3, 2, 1)).toEqual([0, 1]));
  // in 11, stride 2, k 3: out 6, total = 5*2 + 3 - 11 = 2.
  it("stride 2 on an odd input", () => expect(samePads(11, 6, 3, 2, 1)).toEqual([1, 1]));
  // even kernel 2, stride 1: total 1, all at the end.
  it("even kernel", () => expect(samePads(9, 9, 2, 1, 1)).toEqual([0, 1]));
  // dilation 2, k 3: effective 5, total 4.
  it("dilated", () => expect(samePads(9, 9, 3, 1, 2)).toEqual([2, 2]));
  // pool 3 stride 2 on 6: out 3, total = 2*2 + 3 - 6 = 1.
  it("pool window", () => expect(samePads(6, 3, 3, 2, 1)).toEqual([0, 1]));
});

describe("transpose4", () => {
  it("HWIO -> OIHW moves every element where expected", () => {
    // shape [1, 2, 2, 3] (kh=1, kw=2, in=2, out=3): value = 100*h + 10*w... encode the index as w*6 + i*3 + o.
    const data = Float32Array.from({ length: 12 }, (_, k) => k);
    const { shape, data: out } = transpose4(data, [1, 2, 2, 3], [3, 2, 0, 1]);
    expect(shape).toEqual([3, 2, 1, 2]);
    // out[o][i][0][w] = in[0][w][i][o] = w*6 + i*3 + o
    expect(Array.from(out)).toEqual([0, 6, 3, 9, 1, 7, 4, 10, 2, 8, 5, 11]);
  });
});

describe("thresholds", () => {
  const exits = ["e1", "e2", "e3"];
  it("n - 1 values get the last exit's 0 appended", () => expect(parseThresholds("0.5, 0.8", exits)).toEqual({ ok: true, value: [0.5, 0.8, 0] }));
  it("n values with a last 0 are accepted", () => expect(parseThresholds("0.5,0.8,0", exits)).toEqual({ ok: true, value: [0.5, 0.8, 0] }));
  it("inf or off closes an exit", () => {
    expect(parseThresholds("inf,0.8", exits)).toEqual({ ok: true, value: [Infinity, 0.8, 0] });
    expect(parseThresholds("0.3,off,0", exits)).toEqual({ ok: true, value: [0.3, Infinity, 0] });
  });
  it("a last threshold other than 0 is refused", () => {
    const r = parseThresholds("0.5,0.8,0.9", exits);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("last exit e3 always answers");
  });
  it("wrong count", () => {
    const r = parseThresholds("0.5", exits);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe("expected 2 thresholds (for e1, e2; the last exit e3 always answers), got 1");
  });
  it("not a number, negative", () => {
    expect(parseThresholds("x,0.5", exits).ok).toBe(false);
    expect(parseThresholds("-0.1,0.5", exits).ok).toBe(false);
    expect(parseThresholds("0.1,,0", exits).ok).toBe(false);
  });

  const report = JSON.stringify({
    exits: exits.map((name) => ({ name })),
    dynamic: [
      { thresholds: [0.9, 0.9, 0], expectedMacs: 3000, top1: 0.9, onFrontier: true },
      { thresholds: [0.5, 0.5, 0], expectedMacs: 1000, top1: 0.8, onFrontier: true },
      { thresholds: [null, 0.6, 0], expectedMacs: 1500, top1: 0.82, onFrontier: false },
      { thresholds: [0.95, 0.95, 0], expectedMacs: 3200, top1: 0.9, onFrontier: true },
      { thresholds: [0.99, 0.99, 0], expectedMacs: 3500, top1: 0.95, onFrontier: false },
    ],
  });
  it("no budget: highest top-1 on the frontier, ties to the cheaper point", () => {
    const r = chooseFromEval(report, exits, null);
    expect(r.ok && r.value.thresholds).toEqual([0.9, 0.9, 0]);
  });
  it("budget: highest top-1 among all points within it (off-frontier included); null is a closed exit", () => {
    const r = chooseFromEval(report, exits, 2000);
    expect(r.ok && r.value.thresholds).toEqual([Infinity, 0.6, 0]);
    expect(r.ok && r.value.top1).toBe(0.82);
  });
  it("budget below every point: an error naming the cheapest", () => {
    const r = chooseFromEval(report, exits, 500);
    expect(r).toEqual({ ok: false, error: "no operating point fits the budget of 500 MACs (the cheapest needs 1000)" });
  });
  it("a report of another model is refused", () => {
    const r = chooseFromEval(report, ["a", "b", "c"], null);
    expect(r.ok).toBe(false);
  });
  it("a multi-run report needs exactly one run", () => {
    const two = JSON.stringify({ runs: [{ run: "a", ...JSON.parse(report) }, { run: "b", ...JSON.parse(report) }] });
    expect(chooseFromEval(two, exits, null).ok).toBe(false);
    const one = JSON.stringify({ runs: [{ run: "a", ...JSON.parse(report) }] });
    expect(chooseFromEval(one, exits, null).ok).toBe(true);
  });
  it("reads what the evaluator's toJson writes (closed exits as null, frontier marks)", () => {
    const point = (thresholds: number[], expectedMacs: number, top1: number) => ({
      kind: "threshold" as const,
      param: 0,
      thresholds,
      top1,
      expectedMacs,
      expectedMacsCumulative: expectedMacs,
      exitFractions: [0.5, 0.25, 0.25],
      valTop1: top1,
      valExitFractions: [0.5, 0.25, 0.25],
      valExpectedMacs: expectedMacs,
    });
    const cheap = point([0.5, Infinity, 0], 100, 0.7);
    const good = point([0.9, 0.8, 0], 200, 0.8);
    const offFrontier = point([0.95, 0.95, 0], 300, 0.85);
    const json = toJson({
      exits: exits.map((name, m) => ({ name, cumulativeMacs: 100 * (m + 1) })),
      anytime: [],
      budget: [],
      dynamic: { points: [cheap, good, offFrontier], frontier: [cheap, good], costModel: "path", exitCost: [100, 200, 300] },
    });
    expect(chooseFromEval(JSON.stringify(json), exits, null)).toMatchObject({ ok: true, value: { thresholds: [0.9, 0.8, 0], top1: 0.8 } });
    expect(chooseFromEval(JSON.stringify(json), exits, 150)).toMatchObject({ ok: true, value: { thresholds: [0.5, Infinity, 0] } });
  });

  it("parseMacs", () => {
    expect(parseMacs("2.5M")).toEqual({ ok: true, value: 2_500_000 });
    expect(parseMacs("800k")).toEqual({ ok: true, value: 800_000 });
    expect(parseMacs("1e6")).toEqual({ ok: true, value: 1_000_000 });
    expect(parseMacs("lots").ok).toBe(false);
    expect(parseMacs("0").ok).toBe(false);
  });
});

describe("model proto", () => {
  const ir = irOf("specs/quickstart.mex");

  it("two exports of the same spec and seed are byte-identical", () => {
    const a = exportOnnx(ir, extractWeights(buildModel(ir, { seed: 0 })), { producerVersion: "1.2.3" });
    const b = exportOnnx(ir, extractWeights(buildModel(ir, { seed: 0 })), { producerVersion: "1.2.3" });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const c = exportOnnx(ir, extractWeights(buildModel(ir, { seed: 0 })), { producerVersion: "1.2.3", earlyExit: { thresholds: [0.5, 0.5, 0] } });
    const d = exportOnnx(ir, extractWeights(buildModel(ir, { seed: 0 })), { producerVersion: "1.2.3", earlyExit: { thresholds: [0.5, 0.5, 0] } });
    expect(Buffer.from(c).equals(Buffer.from(d))).toBe(true);
  });

  it("metadata, producer, opset, dynamic batch", () => {
    const model = decodeModel(exportOnnx(ir, extractWeights(buildModel(ir, { seed: 0 })), { producerVersion: "1.2.3", metadata: { extra: "x" } }));
    expect(model.producerName).toBe("mex");
    expect(model.producerVersion).toBe("1.2.3");
    expect(Number(model.irVersion)).toBe(7);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([["", 13]]);
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(meta["mex.spec_hash"]).toBe(ir.sourceHash);
    expect(JSON.parse(meta["mex.exits"]!)).toEqual(["e1", "e2", "e3"]);
    expect(JSON.parse(meta["mex.exit_macs"]!)).toEqual({ e1: ir.exits[0]!.cumulativeMacs, e2: ir.exits[1]!.cumulativeMacs, e3: ir.exits[2]!.cumulativeMacs });
    expect(meta.extra).toBe("x");
    expect(model.graph!.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(["N", 16, 16, 1]);
    expect(model.graph!.output!.map((o) => o.name)).toEqual(["logits_e1", "logits_e2", "logits_e3"]);
    // Node names come from IR names.
    expect(model.graph!.node!.map((n) => n.name).slice(0, 4)).toEqual(["input/nchw", "s1/conv", "s1/bn", "s1/relu"]);
  });

  it("ir_version follows the opset", () => {
    expect([13, 14, 15, 17, 18, 19, 20, 21].map(irVersionFor)).toEqual([7, 7, 8, 8, 8, 9, 9, 10]);
  });

  it("errors: opset out of range, missing weights, weights of another model, wrong threshold count", () => {
    const weights = extractWeights(buildModel(ir, { seed: 0 }));
    expect(() => exportOnnx(ir, weights, { producerVersion: "t", opset: 12 })).toThrow(OnnxExportError);
    const missing = new Map(weights);
    missing.delete("s2/conv");
    expect(() => exportOnnx(ir, missing, { producerVersion: "t" })).toThrow("s2/conv: no kernel weights were given");
    const extra = new Map(weights);
    extra.set("s9/conv", weights.get("s2/conv")!);
    expect(() => exportOnnx(ir, extra, { producerVersion: "t" })).toThrow("weights given for s9/conv");
    const wrongShape = new Map(weights);
    wrongShape.set("s2/conv", weights.get("s3/conv")!);
    expect(() => exportOnnx(ir, wrongShape, { producerVersion: "t" })).toThrow("s2/conv: kernel has shape [3, 3, 16, 32], the IR needs [3, 3, 8, 16]");
    expect(() => exportOnnx(ir, weights, { producerVersion: "t", earlyExit: { thresholds: [0.5, 0] } })).toThrow("early exit needs 3 thresholds (one per exit), got 2");
  });

  it("early-exit costs: backbone to the stage plus the heads of every open exit so far", () => {
    const [s1, s2, s3] = ir.stages.map((s) => s.cumulativeMacs) as [number, number, number];
    const [h1, h2, h3] = ir.exits.map((e) => e.macs) as [number, number, number];
    expect(earlyExitCosts(ir, [0.5, 0.5, 0])).toEqual([s1 + h1, s2 + h1 + h2, s3 + h1 + h2 + h3]);
    expect(earlyExitCosts(ir, [Infinity, 0.5, 0])).toEqual([s1, s2 + h2, s3 + h2 + h3]);
  });
});
