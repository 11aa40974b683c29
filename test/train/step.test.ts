import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { lossAndGrads, teacherUnion } from "../../src/train/loss.js";
import { createOptimizer } from "../../src/train/optimizer.js";
import { Temperature } from "../../src/train/temperature.js";

/** A two-exit LayersModel: input [6] -> dense(8, relu) -> exit0 dense(3); -> dense(8, relu) -> exit1 dense(3). */
function twoExitModel(): tf.LayersModel {
  let seed = 1;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [6] });
  const h1 = tf.layers.dense({ units: 8, activation: "relu", kernelInitializer: init() }).apply(input);
  const e0 = tf.layers.dense({ units: 3, kernelInitializer: init() }).apply(h1) as tf.SymbolicTensor;
  const h2 = tf.layers.dense({ units: 8, activation: "relu", kernelInitializer: init() }).apply(h1);
  const e1 = tf.layers.dense({ units: 3, kernelInitializer: init() }).apply(h2) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [e0, e1] });
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("a training step with a LayersModel", () => {
  it("learns, updates tau, and leaks no tensors over 10 steps", () => {
    const model = twoExitModel();
    const x = tf.randomNormal([8, 6], 0, 1, "float32", 1);
    const labels = tf.tensor1d([0, 1, 2, -1, 0, 1, -1, 2], "int32");
    const teachers = [[1], []];
    const union = teacherUnion(teachers);
    const opt = createOptimizer({ kind: "sgd", lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
    const temperature = new Temperature({ kind: "adaptive", start: 1, confidence: 0.3, factor: 1.05 }, 1);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);

    const runStep = (): number => {
      const out = lossAndGrads(() => model.apply(x, { training: true }) as tf.Tensor2D[], labels, {
        teachers,
        weight: 0.5,
        temperature: temperature.value,
        confidenceOver: union,
      }, vars);
      expect(Object.keys(out.grads).sort()).toEqual(vars.map((v) => v.name).sort());
      opt.applyGradients(out.grads);
      // tau grows every batch here, so the total is not comparable across steps; the CE term is.
      const classification = out.classification.dataSync()[0]!;
      expect(Number.isFinite(out.total.dataSync()[0]!)).toBe(true);
      temperature.afterBatch(out.confidence!.dataSync()[0]!);
      tf.dispose([out.total, out.classification, out.distillation, out.confidence!]);
      tf.dispose(out.grads);
      return classification;
    };

    const first = runStep(); // creates the momentum buffers
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 10; i++) last = runStep();
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    // Confidence of a 3-class softmax is >= 1/3 > 0.3, so tau grew on every one of the 11 batches.
    expect(temperature.value).toBeCloseTo(Math.pow(1.05, 11), 10);

    opt.dispose();
    tf.dispose([x, labels]);
    model.dispose();
  });
});
