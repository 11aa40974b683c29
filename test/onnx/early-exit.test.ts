/**
 * The early-exit graph (nested If, batch 1) on fashion-3exit with random weights: which exit answers
 * and what it answers must match the tfjs exits' softmax and the threshold rule
 * "first exit m with max softmax >= theta_m; the last always answers".
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeModel, exportOnnx } from "../../src/backends/onnx/index.js";
import { extractWeights, type ModelWeights } from "../../src/backends/tfjs/weights.js";
import type { ModelIR } from "../../src/ir/model.js";
import { irOf, maxAbsDiff, ortRun, ortSession, randomisedModel, softmaxRows, tfjsOutputs, uniform } from "./helpers.js";

const EXAMPLES = 8;
let ir: ModelIR;
let weights: ModelWeights;
/** probs[i][m]: tfjs softmax of exit m on example i. */
let probs: number[][][];
let inputs: Float32Array[];

beforeAll(async () => {
  await tf.setBackend("cpu");
  ir = irOf("specs/fashion-3exit.mex");
  const model = randomisedModel(ir, 9);
  weights = extractWeights(model);
  const size = ir.input.reduce((a, b) => a * b, 1);
  inputs = Array.from({ length: EXAMPLES }, (_, i) => uniform(size, 100 + i));
  const batch = new Float32Array(size * EXAMPLES);
  inputs.forEach((x, i) => batch.set(x, i * size));
  const logits = tfjsOutputs(model, batch, [EXAMPLES, ...ir.input]);
  model.dispose();
  probs = inputs.map((_, i) => logits.map((l) => softmaxRows(l.subarray(i * ir.classes, (i + 1) * ir.classes), ir.classes)));
});

/** Run the early-exit graph on every example: [exit index, probs] each. */
async function runEarlyExit(thresholds: number[], opset = 13): Promise<{ index: number; probs: Float32Array; dims: readonly number[] }[]> {
  const session = await ortSession(exportOnnx(ir, weights, { producerVersion: "test", opset, earlyExit: { thresholds } }));
  const results = [];
  for (const x of inputs) {
    const out = await ortRun(session, x, [1, ...ir.input]);
    results.push({ index: Number((out.exit_index!.data as BigInt64Array)[0]), probs: out.probs!.data as Float32Array, dims: out.exit_index!.dims });
  }
  await session.release();
  return results;
}

/** The rule, computed from tfjs's softmax. */
function expectedExit(i: number, thresholds: readonly number[]): number {
  for (let m = 0; m < thresholds.length - 1; m++) if (Math.max(...probs[i]![m]!) >= thresholds[m]!) return m;
  return thresholds.length - 1;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
}

describe("early-exit ONNX graph", () => {
  it("thresholds 0: every example answers at the first exit with its softmax", async () => {
    for (const [i, r] of (await runEarlyExit([0, 0, 0])).entries()) {
      expect(r.index).toBe(0);
      expect(r.dims).toEqual([1]);
      expect(maxAbsDiff(r.probs, probs[i]![0]!)).toBeLessThan(1e-5);
    }
  });

  it("thresholds above 1: every example reaches the last exit", async () => {
    for (const [i, r] of (await runEarlyExit([1.5, 2, 0])).entries()) {
      expect(r.index).toBe(2);
      expect(maxAbsDiff(r.probs, probs[i]![2]!)).toBeLessThan(1e-5);
    }
  });

  it("median thresholds: each example exits where the rule says, half of them at the first exit", async () => {
    const thresholds = [median(probs.map((p) => Math.max(...p[0]!))), median(probs.map((p) => Math.max(...p[1]!))), 0];
    const results = await runEarlyExit(thresholds);
    const expected = results.map((_, i) => expectedExit(i, thresholds));
    expect(results.map((r) => r.index)).toEqual(expected);
    expect(expected.filter((m) => m === 0)).toHaveLength(EXAMPLES / 2);
    expect(new Set(expected).size).toBeGreaterThanOrEqual(2);
    results.forEach((r, i) => expect(maxAbsDiff(r.probs, probs[i]![r.index]!)).toBeLessThan(1e-5));
  });

  it("a closed exit (inf) never answers and its head is not in the graph", async () => {
    const thresholds = [Number.POSITIVE_INFINITY, 0, 0];
    const results = await runEarlyExit(thresholds);
    results.forEach((r, i) => {
      expect(r.index).toBe(1);
      expect(maxAbsDiff(r.probs, probs[i]![1]!)).toBeLessThan(1e-5);
    });
    const model = decodeModel(exportOnnx(ir, weights, { producerVersion: "test", earlyExit: { thresholds } }));
    expect(model.graph!.initializer!.some((t) => t.name!.startsWith("e1/"))).toBe(false);
  });

  it("opset 18 (ReduceMax axes became an input) behaves the same", async () => {
    const thresholds = [median(probs.map((p) => Math.max(...p[0]!))), 2, 0];
    const results = await runEarlyExit(thresholds, 18);
    expect(results.map((r) => r.index)).toEqual(results.map((_, i) => expectedExit(i, thresholds)));
  });

  it("is a batch-1 graph with nested Ifs, and says so", () => {
    const model = decodeModel(exportOnnx(ir, weights, { producerVersion: "test", earlyExit: { thresholds: [0.5, 0.5, 0] } }));
    const graph = model.graph!;
    expect(graph.input![0]!.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue))).toEqual([1, 28, 28, 1]);
    expect(graph.output!.map((o) => o.name)).toEqual(["probs", "exit_index"]);
    expect(model.docString).toContain("BATCH SIZE 1");
    const outerIf = graph.node!.find((n) => n.opType === "If")!;
    expect(outerIf.name).toBe("e1/if");
    const elseBranch = outerIf.attribute!.find((a) => a.name === "else_branch")!.g!;
    expect(elseBranch.node!.filter((n) => n.opType === "If").map((n) => n.name)).toEqual(["e2/if"]);
    // Stage 2 runs only in the else branch, stage 1 only in the main graph.
    expect(graph.node!.some((n) => n.name!.startsWith("s2/"))).toBe(false);
    expect(elseBranch.node!.some((n) => n.name === "s2/conv")).toBe(true);
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta["mex.thresholds"]!)).toEqual({ e1: 0.5, e2: 0.5, e3: 0 });
    // Stopping at e2 has run e1's head too: s1+s2 backbone + both heads.
    const costs = JSON.parse(meta["mex.exit_cost_if_stop_at"]!) as Record<string, number>;
    expect(costs.e2).toBe(ir.stages[1]!.cumulativeMacs + ir.exits[0]!.macs + ir.exits[1]!.macs);
  });
});
