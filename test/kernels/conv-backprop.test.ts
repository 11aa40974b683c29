// Conv2D / DepthwiseConv2dNative gradient kernels on wasm vs the cpu backend and
// vs a float64 loop reference. For dilation > 1 only the reference counts: the
// cpu backend's backprop kernels (Conv2D and depthwise) ignore the dilation.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import type { TensorInfo } from "@tensorflow/tfjs";
import { type Arr, initBothBackends, randomArr, relErr, runOn, toTensor, wasmVsCpu } from "./harness.js";
import { convGeometry, convTuning } from "../../src/backends/tfjs/wasm-kernels/conv2d-backprop.js";
import { depthwiseBackpropInputWasm, depthwiseBackpropInputXnn } from "../../src/backends/tfjs/wasm-kernels/depthwise-backprop.js";
import type { WasmBackend } from "../../src/backends/tfjs/wasm-kernels/wasm-internals.js";
import { heapPointer, simdKernels, simdTuning } from "../../src/backends/tfjs/wasm-kernels/simd-kernels.js";

const TOL = 1e-4;

interface ConvCase {
  readonly name: string;
  readonly x: [number, number, number, number];
  readonly k: [number, number];
  /** conv2d: output channels; depthwise: channel multiplier. */
  readonly out: number;
  readonly stride: number | [number, number];
  readonly pad: "same" | "valid";
  readonly dilation: number;
}

const CONV_CASES: ConvCase[] = [
  { name: "7x9 b1 3x3 s1 same", x: [1, 7, 9, 3], k: [3, 3], out: 4, stride: 1, pad: "same", dilation: 1 },
  { name: "7x9 b5 3x3 s2 same", x: [5, 7, 9, 2], k: [3, 3], out: 3, stride: 2, pad: "same", dilation: 1 },
  { name: "7x9 b5 3x2 s3 valid", x: [5, 7, 9, 2], k: [3, 2], out: 5, stride: 3, pad: "valid", dilation: 1 },
  { name: "8x8 b2 1x1 s2 valid", x: [2, 8, 8, 3], k: [1, 1], out: 4, stride: 2, pad: "valid", dilation: 1 },
  { name: "9x7 b5 5x5 s1 valid", x: [5, 9, 7, 4], k: [5, 5], out: 6, stride: 1, pad: "valid", dilation: 1 },
  { name: "9x7 b1 4x4 s[2,1] same", x: [1, 9, 7, 3], k: [4, 4], out: 2, stride: [2, 1], pad: "same", dilation: 1 },
  { name: "7x9 b5 3x3 s3 same", x: [5, 7, 9, 3], k: [3, 3], out: 4, stride: 3, pad: "same", dilation: 1 },
  { name: "7x9 b1 3x3 d2 same", x: [1, 7, 9, 3], k: [3, 3], out: 4, stride: 1, pad: "same", dilation: 2 },
  { name: "9x9 b5 3x3 d2 valid", x: [5, 9, 9, 2], k: [3, 3], out: 3, stride: 1, pad: "valid", dilation: 2 },
  // Same padding wider than the image: some taps see only padding (all-zero im2col blocks).
  { name: "4x5 b3 5x5 d3 same", x: [3, 4, 5, 2], k: [5, 5], out: 3, stride: 1, pad: "same", dilation: 3 },
  { name: "6x5 b4 4x2 s1 same (even kernel)", x: [4, 6, 5, 3], k: [4, 2], out: 5, stride: 1, pad: "same", dilation: 1 },
  // K = 3*3*3 = 27 (28 rounded) <= 64/2: dW^T = dy^T . im2col orientation; 5x4 output
  // pixels are not a multiple of 4, so im2col is the JS gather.
  { name: "9x7 b5 3x3x3->64 s2 same", x: [5, 9, 7, 3], k: [3, 3], out: 64, stride: 2, pad: "same", dilation: 1 },
  // Same orientation with 48 / 12 output pixels: im2col as the SIMD transpose of im2colT (K = 9 padded to 12).
  { name: "8x6 b3 3x3x1->32 s1 same", x: [3, 8, 6, 1], k: [3, 3], out: 32, stride: 1, pad: "same", dilation: 1 },
  { name: "8x6 b3 3x3x3->64 s2 same", x: [3, 8, 6, 3], k: [3, 3], out: 64, stride: 2, pad: "same", dilation: 1 },
];

function pair(v: number | [number, number]): [number, number] {
  return typeof v === "number" ? [v, v] : v;
}

function geometry(c: ConvCase, depthwise: boolean) {
  const filterShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.out];
  const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.stride, c.dilation, c.pad, undefined, depthwise);
  return { filterShape, info, dyShape: info.outShape as number[] };
}

/**
 * Float64 loop reference for both gradients of
 *   y[b,oh,ow,o] = sum x[b, oh*sh + kh*d - pt, ow*sw + kw*d - pl, i] * W[kh,kw,i,o]
 * (for depthwise, input channel i = o / M only).
 */
function referenceGrads(c: ConvCase, depthwise: boolean, x: Arr, w: Arr, dy: Arr): { dx: Arr; dw: Arr } {
  const { info } = geometry(c, depthwise);
  const [sh, sw] = pair(c.stride);
  const [n, H, W, ci] = c.x;
  const [KH, KW] = c.k;
  const co = info.outChannels;
  const M = depthwise ? c.out : 1;
  const dx = new Float64Array(x.data.length);
  const dw = new Float64Array(w.data.length);
  for (let b = 0; b < n; b++)
    for (let oh = 0; oh < info.outHeight; oh++)
      for (let ow = 0; ow < info.outWidth; ow++)
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const h = oh * sh + kh * c.dilation - info.padInfo.top;
            const wc = ow * sw + kw * c.dilation - info.padInfo.left;
            if (h < 0 || h >= H || wc < 0 || wc >= W) continue;
            for (let o = 0; o < co; o++) {
              const g = dy.data[((b * info.outHeight + oh) * info.outWidth + ow) * co + o]!;
              const inputs = depthwise ? [Math.floor(o / M)] : Array.from({ length: ci }, (_, i) => i);
              for (const i of inputs) {
                const xi = ((b * H + h) * W + wc) * ci + i;
                const wi = depthwise ? (kh * KW + kw) * co + o : ((kh * KW + kw) * ci + i) * co + o;
                dx[xi] += g * w.data[wi]!;
                dw[wi] += g * x.data[xi]!;
              }
            }
          }
  return { dx: { shape: x.shape, data: Float32Array.from(dx) }, dw: { shape: w.shape, data: Float32Array.from(dw) } };
}

beforeAll(initBothBackends);

for (const depthwise of [false, true]) {
  const kind = depthwise ? "DepthwiseConv2dNative" : "Conv2D";
  const cases = depthwise
    ? CONV_CASES.flatMap((c) => [{ ...c, out: 1 }, { ...c, name: `${c.name} M2`, out: 2 }])
        .filter((c) => !(c.dilation > 1 && pair(c.stride).some((s) => s > 1)))
    : CONV_CASES;
  describe(`${kind} gradients on wasm`, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const { filterShape, dyShape } = geometry(c, depthwise);
        const x = randomArr(c.x, 1), w = randomArr(filterShape, 2), dy = randomArr(dyShape, 3);
        const base = { strides: c.stride, pad: c.pad, dataFormat: "NHWC", dilations: c.dilation };
        const dwFn = () => tf.engine().runKernel(`${kind}BackpropFilter`, { x: toTensor(x), dy: toTensor(dy) }, { ...base, filterShape }) as tf.Tensor;
        const dxFn = () => tf.engine().runKernel(`${kind}BackpropInput`, { dy: toTensor(dy), filter: toTensor(w) }, { ...base, inputShape: c.x }) as tf.Tensor;
        const ref = referenceGrads(c, depthwise, x, w, dy);
        const dwWasm = await runOn("wasm", dwFn);
        const dxWasm = await runOn("wasm", dxFn);
        expect(dwWasm.shape).toEqual(filterShape);
        expect(dxWasm.shape).toEqual(c.x);
        expect(relErr(dwWasm, ref.dw)).toBeLessThan(TOL);
        expect(relErr(dxWasm, ref.dx)).toBeLessThan(TOL);
        // The cpu backend agrees wherever it gets the geometry right (no dilation).
        if (c.dilation === 1) {
          const dwCpu = await runOn("cpu", dwFn);
          const dxCpu = await runOn("cpu", dxFn);
          expect(relErr(dwWasm, dwCpu)).toBeLessThan(TOL);
          expect(relErr(dxWasm, dxCpu)).toBeLessThan(TOL);
        }
      });
    }
  });
}

describe("Conv2DBackpropFilter chunking", () => {
  for (const [name, out] of [["dy packed", 4], ["im2col packed", 64]] as const) {
    it(`${name}: chunks of one image agree with the whole batch`, async () => {
      const xShape = [5, 9, 7, 3], filterShape = [3, 3, 3, out];
      const dyShape = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], 1, 1, "same").outShape as number[];
      const x = randomArr(xShape, 61), dy = randomArr(dyShape, 62);
      const fn = () => tf.engine().runKernel("Conv2DBackpropFilter", { x: toTensor(x), dy: toTensor(dy) }, { strides: 1, pad: "same", dataFormat: "NHWC", filterShape }) as tf.Tensor;
      const whole = await runOn("wasm", fn);
      const saved = convTuning.im2colMaxElements;
      convTuning.im2colMaxElements = 1;
      try {
        expect(relErr(await runOn("wasm", fn), whole)).toBeLessThan(TOL);
      } finally {
        convTuning.im2colMaxElements = saved;
      }
      expect(relErr(whole, await runOn("cpu", fn))).toBeLessThan(TOL);
    });
  }
});

describe("Conv2DBackpropFilter: shifted-plane im2col agrees with the row-wise gather", () => {
  const cases: Array<[number[], number[], number]> = [
    [[5, 7, 9, 3], [3, 3, 3, 4], 1],
    [[3, 4, 5, 2], [5, 5, 2, 3], 3],
    [[4, 6, 5, 3], [4, 2, 3, 5], 1],
  ];
  for (const [xShape, filterShape, dilation] of cases) {
    for (const chunked of [false, true]) {
      it(`x [${xShape}] filter [${filterShape}] d${dilation}${chunked ? " chunked" : ""}`, async () => {
        const dyShape = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], 1, dilation, "same").outShape as number[];
        const x = randomArr(xShape, 71), dy = randomArr(dyShape, 72);
        const fn = () => tf.engine().runKernel("Conv2DBackpropFilter", { x: toTensor(x), dy: toTensor(dy) }, { strides: 1, pad: "same", dataFormat: "NHWC", dilations: dilation, filterShape }) as tf.Tensor;
        const savedMax = convTuning.im2colMaxElements;
        if (chunked) convTuning.im2colMaxElements = 1;
        try {
          const shifted = await runOn("wasm", fn);
          convTuning.shiftedPlaneIm2col = false;
          const rowwise = await runOn("wasm", fn);
          expect(relErr(shifted, rowwise)).toBeLessThan(1e-6);
        } finally {
          convTuning.shiftedPlaneIm2col = true;
          convTuning.im2colMaxElements = savedMax;
        }
      });
    }
  }
});

describe("Conv2DBackpropFilter with the SIMD channel-major transpose (n*H*W and C multiples of 4)", () => {
  it("transpose2d by hand: [4, 8] -> [8, 4]", async () => {
    await tf.setBackend("wasm");
    const backend = tf.backend() as unknown as WasmBackend;
    const simd = simdKernels(backend);
    expect(simd).not.toBeNull();
    const src = tf.tensor2d(Array.from({ length: 32 }, (_, i) => i), [4, 8]);
    const out = backend.makeOutput([8, 4], "float32");
    simd!.transpose2d(heapPointer(backend, src), heapPointer(backend, out), 4, 8);
    const got = Array.from(backend.typedArrayFromHeap(out));
    expect(got).toEqual(Array.from({ length: 32 }, (_, k) => (k % 4) * 8 + Math.floor(k / 4)));
    backend.disposeData(out.dataId);
    src.dispose();
  });
  const cases: Array<[string, number, "same" | "valid", number]> = [["s1 same", 1, "same", 1], ["s2 same", 2, "same", 1], ["s1 valid d2", 1, "valid", 2]];
  for (const [name, stride, pad, dilation] of cases) {
    it(`x [4,5,6,8] 3x3 -> 4 ${name}: SIMD transpose agrees with the stock one and the reference`, async () => {
      const c: ConvCase = { name, x: [4, 5, 6, 8], k: [3, 3], out: 4, stride, pad, dilation };
      const { filterShape, dyShape } = geometry(c, false);
      const x = randomArr(c.x, 81), w = randomArr(filterShape, 82), dy = randomArr(dyShape, 83);
      const fn = () => tf.engine().runKernel("Conv2DBackpropFilter", { x: toTensor(x), dy: toTensor(dy) },
        { strides: stride, pad, dataFormat: "NHWC", dilations: dilation, filterShape }) as tf.Tensor;
      const withSimd = await runOn("wasm", fn);
      simdTuning.enabled = false;
      let stock: Arr;
      try {
        stock = await runOn("wasm", fn);
      } finally {
        simdTuning.enabled = true;
      }
      expect(Array.from(withSimd.data)).toEqual(Array.from(stock.data));
      expect(relErr(withSimd, referenceGrads(c, false, x, w, dy).dw)).toBeLessThan(TOL);
    });
  }
});

describe("Conv2DBackpropFilter: both matmul orientations and both im2col builders agree", () => {
  const cases: Array<[number[], number, number, "same" | "valid"]> = [
    [[3, 8, 6, 1], 32, 1, "same"],
    [[3, 8, 6, 3], 64, 2, "same"],
    [[2, 8, 8, 2], 40, 1, "valid"],
  ];
  for (const [xShape, out, stride, pad] of cases) {
    it(`x [${xShape}] 3x3 -> ${out} s${stride} ${pad}`, async () => {
      const filterShape = [3, 3, xShape[3]!, out];
      const dyShape = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], stride, 1, pad).outShape as number[];
      const x = randomArr(xShape, 91), dy = randomArr(dyShape, 92);
      const fn = () => tf.engine().runKernel("Conv2DBackpropFilter", { x: toTensor(x), dy: toTensor(dy) }, { strides: stride, pad, dataFormat: "NHWC", filterShape }) as tf.Tensor;
      const saved = { ...convTuning };
      try {
        const viaTranspose = await runOn("wasm", fn);
        convTuning.packViaTranspose = false;
        const viaGather = await runOn("wasm", fn);
        convTuning.packIm2colMaxRatio = 0;
        const packDy = await runOn("wasm", fn);
        expect(relErr(viaTranspose, viaGather)).toBeLessThan(1e-6);
        expect(relErr(viaTranspose, packDy)).toBeLessThan(1e-5);
        expect(relErr(viaTranspose, await runOn("cpu", fn))).toBeLessThan(TOL);
      } finally {
        Object.assign(convTuning, saved);
      }
    });
  }
});

describe("harness sanity", () => {
  it("a 1x1 conv gradient equals hand-computed values", async () => {
    // x = [1,2] (one pixel, 2 channels), W = [[3],[4]]: y = 11; dy = 1 -> dW = x, dx = W.
    const { wasm } = await wasmVsCpu(() =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x: tf.tensor4d([1, 2], [1, 1, 1, 2]), dy: tf.tensor4d([1], [1, 1, 1, 1]) },
        { strides: 1, pad: "valid", dataFormat: "NHWC", filterShape: [1, 1, 2, 1] }) as tf.Tensor);
    expect(Array.from(wasm.data)).toEqual([1, 2]);
  });
});

describe("depthwise input-gradient paths agree", () => {
  // The registered kernel uses XNNPACK; the JS loop serves paddings it declines. Compare both directly.
  const cases: Array<[string, number[], number[], number, number]> = [
    ["7x9 b5 M1 s1 d1", [5, 7, 9, 3], [3, 3, 3, 1], 1, 1],
    ["7x9 b5 M2 s2 d1", [5, 7, 9, 3], [3, 3, 3, 2], 2, 1],
    ["9x9 b1 M2 s1 d2", [1, 9, 9, 2], [3, 3, 2, 2], 1, 2],
    ["8x7 b2 M1 s3 d1", [2, 8, 7, 4], [2, 3, 4, 1], 3, 1],
  ];
  for (const [name, xShape, wShape, stride, dilation] of cases) {
    it(name, async () => {
      await tf.setBackend("wasm");
      const backend = tf.backend() as unknown as WasmBackend;
      const g = convGeometry(xShape, wShape, { strides: stride, pad: "same", dilations: dilation }, true);
      const dy = toTensor(randomArr([g.batch, g.outH, g.outW, g.outC], 41));
      const w = toTensor(randomArr(wShape, 42));
      const viaXnn = depthwiseBackpropInputXnn(backend, dy, w, g);
      const viaJs = depthwiseBackpropInputWasm(backend, dy, w, g);
      expect(viaXnn).not.toBeNull();
      const read = (t: TensorInfo): Arr => ({ shape: t.shape.slice(), data: Float32Array.from(backend.typedArrayFromHeap(t)) });
      expect(relErr(read(viaXnn!), read(viaJs))).toBeLessThan(TOL);
      backend.disposeData(viaXnn!.dataId);
      backend.disposeData(viaJs.dataId);
      tf.dispose([dy, w]);
    });
  }
});
