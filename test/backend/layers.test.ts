import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { atrousPadding, Gelu, MexConv2D, mexConv2d, type ConvGeometryArgs } from "../../src/backends/tfjs/layers/index.js";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { act, conv, singleOpModel } from "./fixtures.js";
import { batch, maxAbsDiff, useCpu } from "./setup.js";

beforeAll(useCpu);

describe("Gelu (exact erf form)", () => {
  it("matches hand values x * Phi(x)", () => {
    const y = new Gelu().apply(tf.tensor1d([-2, -1, 0, 1, 2])) as tf.Tensor;
    // Phi(1) = 0.8413447, Phi(2) = 0.9772499
    const expected = [-2 * (1 - 0.9772499), -(1 - 0.8413447), 0, 0.8413447, 2 * 0.9772499];
    Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it("differentiates: d/dx gelu(0) = 0.5, d/dx gelu(1) = Phi(1) + phi(1) = 1.0833154", () => {
    const g = tf.grad((x: tf.Tensor) => new Gelu().apply(x) as tf.Tensor)(tf.tensor1d([0, 1]));
    const [g0, g1] = Array.from(g.dataSync());
    expect(g0).toBeCloseTo(0.5, 5);
    expect(g1).toBeCloseTo(0.8413447 + 0.2419707, 5);
  });
});

describe("relu6", () => {
  it("clips to [0, 6]", () => {
    const m = buildModel(singleOpModel(act("s1/relu6", "relu6", [3])), { seed: 0 });
    const y = m.getLayer("s1/relu6").apply(tf.tensor2d([[-1, 3, 9]])) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual([0, 3, 6]);
  });
});

const geometry = (g: Partial<ConvGeometryArgs>): ConvGeometryArgs => ({ strides: [1, 1], padding: "same", dilationRate: [1, 1], groups: 1, ...g });

/** Insert d - 1 zero rows/columns between kernel taps: the undilated kernel of a dilated conv. */
function stuff(k: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  const along = (t: tf.Tensor4D, axis: 0 | 1, d: number): tf.Tensor4D => {
    if (d === 1) return t;
    const parts = tf.split(t, t.shape[axis], axis);
    const zeroShape = [...t.shape] as [number, number, number, number];
    zeroShape[axis] = d - 1;
    const pieces = parts.flatMap((p, i) => (i < parts.length - 1 ? [p, tf.zeros(zeroShape)] : [p]));
    return tf.concat(pieces, axis) as tf.Tensor4D;
  };
  return along(along(k, 0, dh), 1, dw);
}

describe("mexConv2d", () => {
  it("computes a 1x1, 2-group conv by hand", () => {
    // x = [1, 2, 3, 4]; group 0 reads channels 0,1 -> out 0; group 1 reads 2,3 -> out 1.
    // kernel [1,1,2,2]: k[i][o]; out0 = 1*10 + 2*100 = 210, out1 = 3*1000 + 4*10000 = 43000.
    const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]);
    const k = tf.tensor4d([10, 1000, 100, 10000], [1, 1, 2, 2]);
    const y = mexConv2d(x, k, geometry({ padding: "valid", groups: 2 }));
    expect(Array.from(y.dataSync())).toEqual([210, 43000]);
  });

  it("computes a dilated 1-D conv by hand", () => {
    // x = 1..5 along the width, kernel [1, 10, 100] with dilation 2, 'valid':
    // y0 = 1 + 3*10 + 5*100 = 531 (only one output: 5 - (3-1)*2 = 1)
    const x = tf.tensor4d([1, 2, 3, 4, 5], [1, 1, 5, 1]);
    const k = tf.tensor4d([1, 10, 100], [1, 3, 1, 1]);
    expect(Array.from(mexConv2d(x, k, geometry({ padding: "valid", dilationRate: [1, 2] })).dataSync())).toEqual([531]);
    // 'same' pads 2 each side: y = [0+0+3*100... ] -> y_i = x_{i-2} + 10 x_i + 100 x_{i+2}
    const same = Array.from(mexConv2d(x, k, geometry({ dilationRate: [1, 2] })).dataSync());
    expect(same).toEqual([10 + 300, 20 + 400, 1 + 30 + 500, 2 + 40, 3 + 50]);
  });

  it("pads for space-to-batch like TensorFlow (extra at the end, rounded to a multiple of d)", () => {
    expect(atrousPadding(5, 3, 2, "same")).toEqual([[2, 2 + 1], 1]); // 5 + 4 = 9 -> 10
    expect(atrousPadding(6, 3, 2, "valid")).toEqual([[0, 0], 0]);
    expect(atrousPadding(7, 2, 3, "same")).toEqual([[1, 2 + 2], 2]); // 7 + 3 = 10 -> 12
  });

  it("equals a dense conv with a block-diagonal kernel (3x3, groups 2, stride 2)", () => {
    const x = batch([5, 5, 4], 2) as tf.Tensor4D;
    const k = tf.randomNormal([3, 3, 2, 6], 0, 1, "float32", 1) as tf.Tensor4D;
    const y = mexConv2d(x, k, geometry({ strides: [2, 2], groups: 2 }));
    const zeros = tf.zeros([3, 3, 2, 3]);
    const [k0, k1] = tf.split(k, 2, 3);
    const full = tf.concat([tf.concat([k0!, zeros], 3), tf.concat([zeros, k1!], 3)], 2) as tf.Tensor4D; // [3,3,4,6]
    const ref = tf.conv2d(x, full, [2, 2], "same");
    expect(y.shape).toEqual([2, 3, 3, 6]);
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-5);
  });

  // Dilated cases against tfjs' own dilated forward pass, and gradients against an undilated
  // conv with a zero-stuffed kernel (tfjs cannot differentiate dilated convs itself).
  const cases: { name: string; inC: number; groups: number; kShape: [number, number, number, number]; d: [number, number]; padding: "same" | "valid"; hw: [number, number] }[] = [
    { name: "groups 1, d 2, same, odd size", inC: 3, groups: 1, kShape: [3, 3, 3, 4], d: [2, 2], padding: "same", hw: [7, 5] },
    { name: "groups 1, d [3, 1], valid", inC: 2, groups: 1, kShape: [2, 3, 2, 3], d: [3, 1], padding: "valid", hw: [8, 6] },
    { name: "depthwise mult 2, d 2, same", inC: 2, groups: 2, kShape: [3, 3, 2, 2], d: [2, 2], padding: "same", hw: [6, 6] },
    { name: "groups 2, d 2, same", inC: 4, groups: 2, kShape: [3, 3, 2, 4], d: [2, 2], padding: "same", hw: [5, 6] },
  ];
  for (const c of cases) {
    it(`dilated conv (${c.name}): forward and gradients`, () => {
      const x = batch([...c.hw, c.inC], 2) as tf.Tensor4D;
      const k = tf.randomNormal(c.kShape, 0, 1, "float32", 3) as tf.Tensor4D;
      const g = geometry({ padding: c.padding, dilationRate: c.d, groups: c.groups });
      const depthwise = c.groups === c.inC;
      const reference = (xx: tf.Tensor4D, kk: tf.Tensor4D, dilate: boolean): tf.Tensor4D => {
        const kernel = dilate ? kk : stuff(kk, c.d[0], c.d[1]);
        const d: [number, number] = dilate ? c.d : [1, 1];
        if (depthwise) return tf.depthwiseConv2d(xx, kernel, 1, c.padding, "NHWC", d);
        if (c.groups === 1) return tf.conv2d(xx, kernel, 1, c.padding, "NHWC", d);
        const xs = tf.split(xx, c.groups, 3);
        const ks = tf.split(kernel, c.groups, 3);
        return tf.concat4d(xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, ks[i] as tf.Tensor4D, 1, c.padding, "NHWC", d)), 3);
      };
      const y = mexConv2d(x, k, g);
      expect(y.shape).toEqual(reference(x, k, true).shape);
      expect(maxAbsDiff(y, reference(x, k, true))).toBeLessThan(1e-5);
      expect(maxAbsDiff(y, reference(x, k, false))).toBeLessThan(1e-5);

      const r = tf.randomNormal(y.shape, 0, 1, "float32", 4);
      const [gx, gk] = tf.grads((xx: tf.Tensor, kk: tf.Tensor) => mexConv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, g).mul(r).sum())([x, k]);
      const [rx, rk] = tf.grads((xx: tf.Tensor, kk: tf.Tensor) => reference(xx as tf.Tensor4D, kk as tf.Tensor4D, false).mul(r).sum())([x, k]);
      expect(maxAbsDiff(gx!, rx!)).toBeLessThan(1e-4);
      expect(maxAbsDiff(gk!, rk!)).toBeLessThan(1e-4);
    });
  }

  it("backs dilated depthwise convs in models (tf.layers.depthwiseConv2d would not dilate)", () => {
    const node = conv("s1/conv", [6, 6, 2], [6, 6, 4], 36 + 4, { filters: 4, groups: 2, dilation: [2, 2] });
    const m = buildModel(singleOpModel(node), { seed: 0 });
    const layer = m.getLayer("s1/conv");
    expect(layer).toBeInstanceOf(MexConv2D);
    const [k, b] = layer.getWeights();
    expect(k!.shape).toEqual([3, 3, 2, 2]);
    const x = batch([6, 6, 2], 1);
    const ref = tf.depthwiseConv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, "same", "NHWC", 2).add(b!);
    expect(maxAbsDiff(layer.apply(x) as tf.Tensor, ref)).toBeLessThan(1e-5);
  });
});
