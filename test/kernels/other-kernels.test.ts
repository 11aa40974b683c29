// Tile, Sum/Mean, pooling gradients and Identity on wasm vs the cpu backend,
// plus small hand-computed cases.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { type Arr, initBothBackends, randomArr, relErr, runOn, toTensor, wasmVsCpu } from "./harness.js";
import { poolTuning } from "../../src/backends/tfjs/wasm-kernels/pool-grad.js";
import { simdKernels, simdTuning } from "../../src/backends/tfjs/wasm-kernels/simd-kernels.js";
import type { WasmBackend } from "../../src/backends/tfjs/wasm-kernels/wasm-internals.js";

/** `fn` on wasm with the SIMD kernels, then with the JS loops. */
async function simdAndJs(fn: () => tf.Tensor): Promise<{ simd: Arr; js: Arr }> {
  const simd = await runOn("wasm", fn);
  simdTuning.enabled = false;
  try {
    return { simd, js: await runOn("wasm", fn) };
  } finally {
    simdTuning.enabled = true;
  }
}

const TOL = 1e-4;

beforeAll(initBothBackends);

async function expectAgree(fn: () => tf.Tensor): Promise<Arr> {
  const { wasm, cpu } = await wasmVsCpu(fn);
  expect(wasm.shape).toEqual(cpu.shape);
  expect(relErr(wasm, cpu)).toBeLessThan(TOL);
  return wasm;
}

describe("Tile on wasm", () => {
  it("tiles [1,2] twice into [1,2,1,2]", async () => {
    const out = await runOn("wasm", () => tf.tile(tf.tensor2d([[1, 2]]), [1, 2]));
    expect(Array.from(out.data)).toEqual([1, 2, 1, 2]);
  });
  const cases: Array<[number[], number[]]> = [
    [[1, 1, 1, 5], [5, 7, 9, 1]],
    [[2, 3], [3, 2]],
    [[3], [4]],
    [[2, 1, 3], [1, 4, 2]],
    [[2, 3, 1, 2], [2, 1, 3, 1]],
  ];
  for (const [shape, reps] of cases) {
    it(`[${shape}] x [${reps}]`, async () => {
      const x = randomArr(shape, 11);
      await expectAgree(() => tf.tile(toTensor(x), reps));
    });
  }
  it("int32 and bool keep their values", async () => {
    const ints = await runOn("wasm", () => tf.tile(tf.tensor2d([[1, -2]], [1, 2], "int32"), [2, 2]).toFloat());
    expect(Array.from(ints.data)).toEqual([1, -2, 1, -2, 1, -2, 1, -2]);
    const bools = await runOn("wasm", () => tf.tile(tf.tensor1d([true, false], "bool"), [3]).toFloat());
    expect(Array.from(bools.data)).toEqual([1, 0, 1, 0, 1, 0]);
  });
});

describe("Sum and Mean on wasm", () => {
  it("sums a 2x3 matrix by rows and columns", async () => {
    const cols = await runOn("wasm", () => tf.sum(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), 0));
    expect(Array.from(cols.data)).toEqual([5, 7, 9]);
    const rows = await runOn("wasm", () => tf.mean(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), 1));
    expect(Array.from(rows.data)).toEqual([2, 5]);
  });
  const axesCases: Array<number[] | null> = [[0, 1, 2], [1, 2], [3], null, [0], [2, 3], [0, 2], [1]];
  for (const axes of axesCases) {
    for (const keepDims of [false, true]) {
      it(`axes ${JSON.stringify(axes)} keepDims ${keepDims}`, async () => {
        const x = randomArr([5, 7, 9, 3], 12);
        await expectAgree(() => tf.sum(toTensor(x), axes ?? undefined, keepDims));
        await expectAgree(() => tf.mean(toTensor(x), axes ?? undefined, keepDims));
      });
    }
  }
  it("large batch-norm style reduction keeps float32 accuracy", async () => {
    const x = randomArr([64, 28, 28, 8], 13);
    await expectAgree(() => tf.sum(toTensor(x), [0, 1, 2]));
  });
  it("int32 sums fall back to the stock kernel", async () => {
    const out = await runOn("wasm", () => tf.sum(tf.tensor2d([[1, 2], [3, 4]], [2, 2], "int32"), 0).toFloat());
    expect(Array.from(out.data)).toEqual([4, 6]);
  });
});

describe("pooling gradients on wasm", () => {
  it("max pool routes the gradient to the window maximum (first one on ties)", async () => {
    // One 2x2 window [[1,3],[3,0]]: the first 3 (row-major) gets dy = 5.
    const dx = await runOn("wasm", () =>
      tf.grad((x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, 2, 2, "valid"))(tf.tensor4d([1, 3, 3, 0], [1, 2, 2, 1]), tf.tensor4d([5], [1, 1, 1, 1])));
    expect(Array.from(dx.data)).toEqual([0, 5, 0, 0]);
  });
  it("avg pool spreads dy evenly over the window", async () => {
    const dx = await runOn("wasm", () =>
      tf.grad((x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 2, 2, "valid"))(tf.tensor4d([1, 3, 3, 0], [1, 2, 2, 1]), tf.tensor4d([8], [1, 1, 1, 1])));
    expect(Array.from(dx.data)).toEqual([2, 2, 2, 2]);
  });
  const cases: Array<{ name: string; x: [number, number, number, number]; f: number | [number, number]; s: number | [number, number]; pad: "same" | "valid" }> = [
    { name: "7x9 b5 2x2 s2 valid", x: [5, 7, 9, 3], f: 2, s: 2, pad: "valid" },
    { name: "7x9 b1 3x3 s2 same", x: [1, 7, 9, 4], f: 3, s: 2, pad: "same" },
    { name: "7x9 b5 3x3 s1 same", x: [5, 7, 9, 2], f: 3, s: 1, pad: "same" },
    { name: "9x7 b5 3x2 s3 valid", x: [5, 9, 7, 3], f: [3, 2], s: 3, pad: "valid" },
    { name: "8x8 b2 2x2 s[2,1] same", x: [2, 8, 8, 5], f: 2, s: [2, 1], pad: "same" },
    // Tiled 2x2 fast path: even sizes (no zeroing), 'same' that needs no padding.
    { name: "8x6 b3 2x2 s2 same", x: [3, 8, 6, 4], f: 2, s: 2, pad: "same" },
    // 'same' with an odd size pads the last window: general loop.
    { name: "7x7 b2 2x2 s2 same", x: [2, 7, 7, 3], f: 2, s: 2, pad: "same" },
  ];
  for (const c of cases) {
    for (const ties of [false, true]) {
      it(`${c.name}${ties ? " with ties (relu'd, rounded)" : ""}`, async () => {
        const raw = randomArr(c.x, 21);
        // Rounded, rectified inputs put equal values (many zeros) in most windows.
        const x = ties ? { shape: raw.shape, data: raw.data.map((v) => Math.max(0, Math.round(v * 2))) } : raw;
        const outShape = tf.backend_util.computePool2DInfo(c.x, c.f, c.s, 1, c.pad).outShape as number[];
        const dy = randomArr(outShape, 22);
        await expectAgree(() => tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, c.f, c.s, c.pad))(toTensor(x), toTensor(dy)));
        await expectAgree(() => tf.grad((t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, c.f, c.s, c.pad))(toTensor(x), toTensor(dy)));
      });
    }
  }
});

describe("wasm SIMD kernels", () => {
  it("load on this Node (else the tests below only exercise the JS loops)", async () => {
    await tf.setBackend("wasm");
    expect(simdKernels(tf.backend() as unknown as WasmBackend)).not.toBeNull();
  });
  it("max pool gradient by hand: per channel argmax, first on ties, odd last row/column zero", async () => {
    // [1,3,3,4]: 2x2 windows over rows/cols 0-1 only (valid). Channel c of pixel (h,w) = x[h][w][c].
    const x = [
      [[1, 0, 5, 2], [4, 0, 5, 9], [7, 7, 7, 7]],
      [[3, 0, 5, 1], [2, 0, 6, 3], [7, 7, 7, 7]],
      [[9, 9, 9, 9], [9, 9, 9, 9], [9, 9, 9, 9]],
    ];
    const dx = await runOn("wasm", () =>
      tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, "valid"))(tf.tensor4d(x.flat(2), [1, 3, 3, 4]), tf.tensor4d([10, 20, 30, 40], [1, 1, 1, 4])));
    const at = (h: number, w: number) => Array.from(dx.data.slice((h * 3 + w) * 4, (h * 3 + w) * 4 + 4));
    // channel 0: max 4 at (0,1); channel 1: all 0, first (0,0); channel 2: 6 at (1,1); channel 3: 9 at (0,1).
    expect(at(0, 0)).toEqual([0, 20, 0, 0]);
    expect(at(0, 1)).toEqual([10, 0, 0, 40]);
    expect(at(1, 0)).toEqual([0, 0, 0, 0]);
    expect(at(1, 1)).toEqual([0, 0, 30, 0]);
    for (const [h, w] of [[0, 2], [1, 2], [2, 0], [2, 1], [2, 2]] as const) expect(at(h, w)).toEqual([0, 0, 0, 0]);
  });
  for (const xShape of [[3, 8, 6, 4], [2, 7, 9, 8], [64, 14, 14, 32]]) {
    it(`max pool gradient [${xShape}] with ties equals the JS loop`, async () => {
      const raw = randomArr(xShape, 33);
      const x = { shape: raw.shape, data: raw.data.map((v) => Math.max(0, Math.round(v * 2))) };
      const dy = randomArr(tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], 2, 2, 1, "valid").outShape as number[], 34);
      const { simd, js } = await simdAndJs(() => tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, "valid"))(toTensor(x), toTensor(dy)));
      expect(Array.from(simd.data)).toEqual(Array.from(js.data));
    });
  }
  const sumCases: Array<[number[], number[]]> = [[[5, 7, 9, 4], [0, 1, 2]], [[3, 5, 6, 8], [1, 2]], [[2, 3, 17, 12], [1, 2]], [[4, 8], [0]], [[2, 9, 4], [1]]];
  for (const [shape, axes] of sumCases) {
    it(`Sum/Mean of [${shape}] over [${axes}] equal the JS loop and the cpu backend`, async () => {
      const x = randomArr(shape, 35);
      for (const fn of [() => tf.sum(toTensor(x), axes), () => tf.mean(toTensor(x), axes, true)]) {
        const { simd, js } = await simdAndJs(fn);
        expect(simd.shape).toEqual(js.shape);
        expect(relErr(simd, js)).toBeLessThan(1e-6);
        await expectAgree(fn);
      }
    });
  }
  for (const [name, statShape] of [["[C] statistics", [8]], ["[1,1,1,C] statistics", [1, 1, 1, 8]], ["size-1 statistics", [1]]] as const) {
    it(`batch norm (C = 8, ${name}) equals Multiply+Add and the cpu backend`, async () => {
      const x = randomArr([5, 7, 9, 8], 36);
      const mean = randomArr([...statShape], 37), offset = randomArr([...statShape], 38), scale = randomArr([...statShape], 39);
      const variance = { shape: [...statShape], data: randomArr([...statShape], 40).data.map((v) => v * v + 0.1) };
      const fn = () => tf.batchNorm(toTensor(x) as tf.Tensor4D, toTensor(mean) as tf.Tensor4D, toTensor(variance) as tf.Tensor4D,
        toTensor(offset) as tf.Tensor4D, toTensor(scale) as tf.Tensor4D, 1e-3);
      const { simd, js } = await simdAndJs(fn);
      expect(relErr(simd, js)).toBeLessThan(1e-6);
      await expectAgree(fn);
    });
  }
  it("batch norm by hand (C = 4): x * scale / sqrt(var + eps) + offset - mean * gain", async () => {
    // channel c: mean c, variance 3, eps 1 -> 1/sqrt(4) = 0.5; scale 2 -> gain 1; offset 10.
    const out = await runOn("wasm", () => tf.batchNorm(tf.tensor2d([[5, 5, 5, 5], [0, 1, 2, 3]]), tf.tensor1d([0, 1, 2, 3]),
      tf.tensor1d([3, 3, 3, 3]), tf.tensor1d([10, 10, 10, 10]), tf.tensor1d([2, 2, 2, 2]), 1));
    expect(Array.from(out.data)).toEqual([15, 14, 13, 12, 10, 10, 10, 10]);
  });
  it("per-channel Sub/Multiply/Add by hand, both operand orders", async () => {
    const big = () => tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]]);
    const ch = () => tf.tensor1d([1, 10, 100, 1000]);
    const sub = await runOn("wasm", () => tf.sub(big(), ch()));
    expect(Array.from(sub.data)).toEqual([0, -8, -97, -996, 4, -4, -93, -992]);
    const rsub = await runOn("wasm", () => tf.sub(ch(), big()));
    expect(Array.from(rsub.data)).toEqual([0, 8, 97, 996, -4, 4, 93, 992]);
    const mul = await runOn("wasm", () => tf.mul(ch(), big()));
    expect(Array.from(mul.data)).toEqual([1, 20, 300, 4000, 5, 60, 700, 8000]);
    const add = await runOn("wasm", () => tf.add(big(), ch().reshape([1, 4])));
    expect(Array.from(add.data)).toEqual([2, 12, 103, 1004, 6, 16, 107, 1008]);
  });
  const binCases: Array<[string, number[], number[]]> = [
    ["[5,7,9,8] with [8]", [5, 7, 9, 8], [8]],
    ["[5,7,9,8] with [1,1,1,8]", [5, 7, 9, 8], [1, 1, 1, 8]],
    ["[6,12] with [1,12]", [6, 12], [1, 12]],
    // Not per-channel (stock kernels): odd C, broadcast along another axis, non-unit leading dim.
    ["[5,7,9,3] with [3] (stock)", [5, 7, 9, 3], [3]],
    ["[5,7,9,4] with [5,1,1,4] (stock)", [5, 7, 9, 4], [5, 1, 1, 4]],
    ["[5,7,8] with [7,1] (stock)", [5, 7, 8], [7, 1]],
    ["[4,8] with [] (stock)", [4, 8], []],
  ];
  for (const [name, bigShape, smallShape] of binCases) {
    it(`Sub/Multiply/Add ${name}, both orders, agree with the cpu backend`, async () => {
      const big = randomArr(bigShape, 41), small = randomArr(smallShape, 42);
      for (const op of [tf.sub, tf.mul, tf.add]) {
        await expectAgree(() => op(toTensor(big), toTensor(small)));
        await expectAgree(() => op(toTensor(small), toTensor(big)));
      }
    });
  }
  it("int32 Multiply/Sub keep using the stock kernels", async () => {
    const out = await runOn("wasm", () => tf.sub(tf.mul(tf.tensor2d([[1, 2, 3, 4]], [1, 4], "int32"), tf.tensor1d([2, 2, 2, 2], "int32")), tf.tensor1d([1, 1, 1, 1], "int32")).toFloat());
    expect(Array.from(out.data)).toEqual([1, 3, 5, 7]);
  });
  it("sums 1..24 over 24 rows exactly (blocks of 8 rows and float64 across blocks)", async () => {
    const out = await runOn("wasm", () => tf.sum(tf.tensor3d(Array.from({ length: 24 * 4 }, (_, i) => Math.floor(i / 4) + 1 + (i % 4)), [1, 24, 4]), 1));
    expect(Array.from(out.data)).toEqual([300, 324, 348, 372]);
  });
});

describe("max pool gradient: tiled 2x2 loop agrees with the general loop", () => {
  for (const xShape of [[3, 8, 6, 4], [2, 7, 9, 3]]) {
    it(`[${xShape}] with ties`, async () => {
      const raw = randomArr(xShape, 31);
      const x = { shape: raw.shape, data: raw.data.map((v) => Math.max(0, Math.round(v * 2))) };
      const dy = randomArr(tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], 2, 2, 1, "valid").outShape as number[], 32);
      const fn = () => tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, "valid"))(toTensor(x), toTensor(dy));
      const tiled = await runOn("wasm", fn);
      poolTuning.tiled2x2 = false;
      try {
        expect(Array.from(await runOn("wasm", fn).then((a) => a.data))).toEqual(Array.from(tiled.data));
      } finally {
        poolTuning.tiled2x2 = true;
      }
    });
  }
});

describe("Identity on wasm", () => {
  it("a clone outlives its source and leaks nothing", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("FusedBatchNorm forward on wasm (per-channel gain/shift; other broadcasts use the stock kernel)", () => {
  it("normalises one channel by hand-computed statistics", async () => {
    // (x - 1) * 2 / sqrt(3 + 1) + 0.5 = x - 0.5
    const out = await runOn("wasm", () =>
      tf.batchNorm(tf.tensor4d([1, 2, 3, 5], [1, 2, 2, 1]), tf.tensor1d([1]), tf.tensor1d([3]), tf.tensor1d([0.5]), tf.tensor1d([2]), 1));
    expect(Array.from(out.data)).toEqual([0.5, 1.5, 2.5, 4.5]);
  });
  const x = randomArr([5, 7, 9, 3], 51);
  const stat = (seed: number, shape: number[], positive = false): Arr => {
    const a = randomArr(shape, seed);
    return positive ? { shape, data: a.data.map((v) => v * v + 0.1) } : a;
  };
  const cases: Array<[string, number[], boolean]> = [
    ["rank-1 statistics with scale and offset", [3], true],
    ["rank-4 [1,1,1,C] statistics", [1, 1, 1, 3], true],
    ["no scale or offset", [3], false],
    ["full-shape statistics (stock fallback)", [5, 7, 9, 3], true],
    ["scalar-sized statistics", [1], true],
    ["statistics along a non-channel axis (stock fallback)", [1, 1, 9, 1], true],
  ];
  for (const [name, shape, affine] of cases) {
    it(name, async () => {
      const mean = stat(52, shape), variance = stat(53, shape, true), offset = stat(54, shape), scale = stat(55, shape);
      await expectAgree(() =>
        tf.batchNorm(toTensor(x) as tf.Tensor4D, toTensor(mean) as tf.Tensor4D, toTensor(variance) as tf.Tensor4D,
          affine ? (toTensor(offset) as tf.Tensor4D) : undefined, affine ? (toTensor(scale) as tf.Tensor4D) : undefined, 1e-3));
    });
  }
});
