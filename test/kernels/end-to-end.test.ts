// Whole backward passes: tf.variableGrads of small conv nets on wasm vs cpu.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { type Arr, initBothBackends, randomArr, relErr, toTensor } from "./harness.js";
import { convTuning } from "../../src/backends/tfjs/wasm-kernels/conv2d-backprop.js";

const TOL = 1e-4;

type Params = Record<string, Arr>;

const PARAM_SHAPES: Record<string, number[]> = {
  w1: [3, 3, 3, 8], g1: [8], b1: [8],
  dw: [3, 3, 8, 2], w2: [3, 3, 16, 8], w3: [1, 1, 8, 8],
  wd: [20, 10], bd: [10],
  wdil: [3, 3, 8, 4], dwdil: [3, 3, 4, 1],
};

function randomParams(): Params {
  const out: Params = {};
  let seed = 100;
  for (const [name, shape] of Object.entries(PARAM_SHAPES)) {
    const a = randomArr(shape, seed++);
    out[name] = { shape, data: a.data.map((v) => v * 0.5) };
  }
  return out;
}

/** conv-bn-relu-maxpool, depthwise (M=2), avgpool, strided conv, 1x1 conv, dilated conv + depthwise, concat, add, dropout, gap, dense, softmax CE. */
function loss(v: Record<string, tf.Variable>, x: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar {
  let h = tf.conv2d(x, v.w1 as tf.Tensor4D, 1, "same");
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  h = tf.relu(tf.batchNorm(h, mean, variance, v.b1 as tf.Tensor1D, v.g1 as tf.Tensor1D, 1e-3)) as tf.Tensor4D;
  h = tf.maxPool(h, 2, 2, "same");
  const d = tf.relu6(tf.depthwiseConv2d(h, v.dw as tf.Tensor4D, 1, "same"));
  const a = tf.avgPool(d, 2, 2, "valid");
  const c = tf.conv2d(a, v.w2 as tf.Tensor4D, 2, "same");
  const s = tf.add(c, tf.conv2d(tf.sigmoid(c), v.w3 as tf.Tensor4D, 1, "valid"));
  // Dilated branch on the pooled features (needs the dilation-aware gradients).
  const dil = tf.depthwiseConv2d(tf.tanh(tf.conv2d(h, v.wdil as tf.Tensor4D, 1, "same", "NHWC", 2)), v.dwdil as tf.Tensor4D, 1, "same", "NHWC", 2);
  const gap = tf.concat([tf.mean(s, [1, 2]), tf.mean(tf.dropout(s, 0.25, undefined, 7), [1, 2]), tf.mean(dil, [1, 2])], 1);
  const logits = tf.add(tf.matMul(gap as tf.Tensor2D, v.wd as tf.Tensor2D), v.bd);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

async function gradsOn(backend: "wasm" | "cpu", params: Params, x: Arr, labels: number[]): Promise<{ loss: number; grads: Params }> {
  await tf.setBackend(backend);
  const vars: Record<string, tf.Variable> = {};
  for (const [name, a] of Object.entries(params)) vars[name] = tf.variable(toTensor(a), true, `${backend}_${name}_${Math.random()}`);
  const xt = toTensor(x) as tf.Tensor4D;
  const yt = tf.oneHot(tf.tensor1d(labels, "int32"), 10).toFloat() as tf.Tensor2D;
  const { value, grads } = tf.variableGrads(() => loss(vars, xt, yt), Object.values(vars));
  const out: Params = {};
  for (const [name, v] of Object.entries(vars)) {
    const g = grads[v.name]!;
    out[name] = { shape: g.shape.slice(), data: Float32Array.from(g.dataSync() as Float32Array) };
  }
  const l = value.dataSync()[0]!;
  tf.dispose([value, xt, yt, ...Object.values(grads), ...Object.values(vars)]);
  return { loss: l, grads: out };
}

beforeAll(initBothBackends);

describe("end-to-end gradients, wasm vs cpu", () => {
  for (const batch of [1, 5]) {
    it(`small conv net, batch ${batch}, 9x7 input`, async () => {
      const params = randomParams();
      const x = randomArr([batch, 9, 7, 3], 1);
      const labels = Array.from({ length: batch }, (_, i) => (i * 3) % 10);
      const wasm = await gradsOn("wasm", params, x, labels);
      const cpu = await gradsOn("cpu", params, x, labels);
      expect(Math.abs(wasm.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(TOL);
      for (const name of Object.keys(params)) {
        expect(relErr(wasm.grads[name]!, cpu.grads[name]!), name).toBeLessThan(TOL);
      }
    });
  }

  it("chunked im2col (tiny chunk limit) gives the same gradients", async () => {
    const params = randomParams();
    const x = randomArr([5, 9, 7, 3], 2);
    const labels = [1, 2, 3, 4, 5];
    const whole = await gradsOn("wasm", params, x, labels);
    const saved = convTuning.im2colMaxElements;
    convTuning.im2colMaxElements = 200;
    try {
      const chunked = await gradsOn("wasm", params, x, labels);
      for (const name of Object.keys(params)) expect(relErr(chunked.grads[name]!, whole.grads[name]!), name).toBeLessThan(TOL);
    } finally {
      convTuning.im2colMaxElements = saved;
    }
  });
});
