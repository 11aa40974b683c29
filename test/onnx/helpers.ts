/** Shared helpers of the ONNX tests and the latency bench: models with non-trivial weights, ORT runs. */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { checkSource } from "../../src/check/index.js";
import type { ModelIR } from "../../src/ir/model.js";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { Rng } from "../../src/data/rng.js";

/** Check a spec file; fails loudly when it has errors. */
export function irOf(path: string): ModelIR {
  return irOfText(readFileSync(path, "utf8"), path);
}

export function irOfText(text: string, file = "<test>"): ModelIR {
  const { ir, diagnostics } = checkSource(text, file);
  if (!ir) throw new Error(`${file} does not check:\n${diagnostics.map((d) => d.message).join("\n")}`);
  return ir;
}

/** Deterministic uniform numbers in [lo, hi) from the project's seeded generator. */
export function uniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/**
 * buildModel, then replace every bias and batch-norm tensor (zeros / ones at init) with random
 * values, so bias order and the exported batch norm are really exercised. Moving variances stay
 * in [0.5, 1.5] and gammas in [0.5, 1.5] to keep activations in a sane range.
 */
export function randomisedModel(ir: ModelIR, seed = 1): tf.LayersModel {
  const model = buildModel(ir, { seed });
  let k = seed * 1000;
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((variable, i) => {
      const role = variable.originalName.slice(variable.originalName.lastIndexOf("/") + 1);
      const n = (variable.shape as number[]).reduce((a, b) => a * b, 1);
      const shape = variable.shape as number[];
      k++;
      switch (role) {
        case "bias":
        case "beta":
        case "moving_mean":
          return tf.tensor(uniform(n, k, -0.5, 0.5), shape);
        case "gamma":
        case "moving_variance":
          return tf.tensor(uniform(n, k, 0.5, 1.5), shape);
        default:
          return layer.getWeights()[i]!;
      }
    });
    layer.setWeights(values);
  }
  return model;
}

/** tfjs outputs of every exit, as arrays (batch-major). */
export function tfjsOutputs(model: tf.LayersModel, input: Float32Array, shape: number[]): Float32Array[] {
  return tf.tidy(() => {
    const out = model.predict(tf.tensor(input, shape));
    const list = Array.isArray(out) ? out : [out];
    return list.map((t) => Float32Array.from(t.dataSync()));
  });
}

export async function ortSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1 });
}

export async function ortRun(session: ort.InferenceSession, input: Float32Array, shape: number[]): Promise<Record<string, ort.Tensor>> {
  return session.run({ input: new ort.Tensor("float32", input, shape) });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Row-wise softmax of [rows, classes] logits, in float64. */
export function softmaxRows(logits: ArrayLike<number>, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length / classes; r++) {
    const row = Array.from({ length: classes }, (_, j) => logits[r * classes + j]!);
    const max = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    out.push(...exps.map((e) => e / sum));
  }
  return out;
}
