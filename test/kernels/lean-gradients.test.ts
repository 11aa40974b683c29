// The replacement FusedBatchNorm / Mean / Sum gradients against closed-form
// float64 references, on both backends (the configs are global).
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { type Arr, initBothBackends, randomArr, relErr, runOn, toTensor } from "./harness.js";

const TOL = 1e-4;

beforeAll(initBothBackends);

/**
 * Training-mode batch norm over [N,H,W] per channel: with xhat = (x - mu) * r,
 * r = 1/sqrt(var + eps), m = N*H*W:
 *   dx = gamma * r / m * (m*dy - sum(dy) - xhat * sum(dy*xhat)),
 *   dgamma = sum(dy * xhat), dbeta = sum(dy).
 */
function batchNormReference(x: Arr, gamma: Arr, dy: Arr, eps: number): { dx: Arr; dgamma: Arr; dbeta: Arr } {
  const C = x.shape[3]!;
  const m = x.data.length / C;
  const mu = new Float64Array(C), v = new Float64Array(C), sdy = new Float64Array(C), sdyx = new Float64Array(C);
  for (let i = 0; i < x.data.length; i++) mu[i % C] += x.data[i]! / m;
  for (let i = 0; i < x.data.length; i++) v[i % C] += (x.data[i]! - mu[i % C]!) ** 2 / m;
  const r = Array.from(v, (vc) => 1 / Math.sqrt(vc + eps));
  const xhat = (i: number) => (x.data[i]! - mu[i % C]!) * r[i % C]!;
  for (let i = 0; i < x.data.length; i++) {
    sdy[i % C] += dy.data[i]!;
    sdyx[i % C] += dy.data[i]! * xhat(i);
  }
  const dx = new Float32Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const c = i % C;
    dx[i] = ((gamma.data[c]! * r[c]!) / m) * (m * dy.data[i]! - sdy[c]! - xhat(i) * sdyx[c]!);
  }
  return { dx: { shape: x.shape, data: dx }, dgamma: { shape: [C], data: Float32Array.from(sdyx) }, dbeta: { shape: [C], data: Float32Array.from(sdy) } };
}

describe("lean gradients", () => {
  for (const backend of ["wasm", "cpu"] as const) {
    for (const shape of [[5, 7, 9, 3], [1, 4, 6, 2]]) {
      it(`batch norm with batch statistics on ${backend}, [${shape}]`, async () => {
        const eps = 1e-3;
        const x = randomArr(shape, 31), gamma = randomArr([shape[3]!], 32), beta = randomArr([shape[3]!], 33), dy = randomArr(shape, 34);
        const ref = batchNormReference(x, gamma, dy, eps);
        const grad = (which: 0 | 1 | 2) => () => {
          const f = (xt: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const { mean, variance } = tf.moments(xt, [0, 1, 2]);
            return tf.batchNorm(xt as tf.Tensor4D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, eps);
          };
          return tf.grads(f)([toTensor(x), toTensor(gamma), toTensor(beta)], toTensor(dy))[which]!;
        };
        expect(relErr(await runOn(backend, grad(0)), ref.dx)).toBeLessThan(TOL);
        expect(relErr(await runOn(backend, grad(1)), ref.dgamma)).toBeLessThan(TOL);
        expect(relErr(await runOn(backend, grad(2)), ref.dbeta)).toBeLessThan(TOL);
      });
    }
    it(`batch norm with fixed statistics (inference-style) on ${backend}`, async () => {
      // y = (x - 1) * 2 / sqrt(3 + 1) + 0: dy/dx = 1 everywhere; dmean = -sum(dy); dvar = -0.5*2*4^-1.5*sum(dy*(x-1)).
      const out = await runOn(backend, () => {
        const x = tf.tensor4d([1, 2, 3, 5], [1, 2, 2, 1]);
        const [dx, dmean, dvar] = tf.grads((xt: tf.Tensor, m: tf.Tensor, v: tf.Tensor) =>
          tf.batchNorm(xt as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, tf.tensor1d([0]), tf.tensor1d([2]), 1))(
          [x, tf.tensor1d([1]), tf.tensor1d([3])]);
        return tf.concat([dx!.reshape([4]), dmean!, dvar!]);
      });
      // sum(dy*(x-1)) = 0+1+2+4 = 7 -> dvar = -0.5*2*(1/8)*7 = -0.875
      expect(Array.from(out.data)).toEqual([1, 1, 1, 1, -4, -0.875]);
    });
    it(`mean and sum gradients broadcast dy on ${backend}`, async () => {
      const out = await runOn(backend, () => {
        const x = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3]);
        const gMean = tf.grad((t: tf.Tensor) => tf.mean(t, [0, 2]))(x, tf.tensor1d([3, 6]));
        const gSum = tf.grad((t: tf.Tensor) => tf.sum(t, 1, true))(x, tf.tensor3d([1, 2, 3], [1, 1, 3]));
        return tf.concat([gMean.reshape([6]), gSum.reshape([6])]);
      });
      expect(Array.from(out.data)).toEqual([1, 1, 1, 2, 2, 2, 1, 2, 3, 1, 2, 3]);
    });
  }
});
