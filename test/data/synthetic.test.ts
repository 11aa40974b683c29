import { describe, expect, it } from "vitest";
import { loadDataset, type Split } from "../../src/data/dataset.js";
import { DataError } from "../../src/data/errors.js";
import { normalQuantile, SYNTHETIC_TEST_PER_CLASS, SYNTHETIC_TRAIN_PER_CLASS, syntheticPool } from "../../src/data/synthetic.js";
import type { DataIR } from "../../src/ir/model.js";

function synthetic(overrides: Partial<Extract<DataIR, { kind: "synthetic" }>> = {}): DataIR {
  return { kind: "synthetic", seed: 1, perClass: 40, valPerClass: 10, unlabeledPerClass: 0, testPerClass: 20, normalize: true, ...overrides };
}

function classCounts(split: Split, classes: number): number[] {
  const counts = new Array(classes).fill(0);
  for (const label of split.labels) counts[label]++;
  return counts;
}

function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe("synthetic pools", () => {
  it("are deterministic in the generator seed", () => {
    const a = syntheticPool(3, [28, 28, 1], 10, "train", 5);
    const b = syntheticPool(3, [28, 28, 1], 10, "train", 5);
    const c = syntheticPool(4, [28, 28, 1], 10, "train", 5);
    expect(Buffer.from(a.images).equals(Buffer.from(b.images))).toBe(true);
    expect(Buffer.from(a.images).equals(Buffer.from(c.images))).toBe(false);
  });

  it("interleave classes and are prefix-stable in the pool size", () => {
    const small = syntheticPool(3, [16, 16, 1], 4, "train", 3);
    const large = syntheticPool(3, [16, 16, 1], 4, "train", 6);
    expect(Array.from(small.labels)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    expect(Buffer.from(large.images.subarray(0, small.images.length)).equals(Buffer.from(small.images))).toBe(true);
  });

  it("give train and test different examples", () => {
    const train = syntheticPool(3, [16, 16, 1], 4, "train", 2);
    const test = syntheticPool(3, [16, 16, 1], 4, "test", 2);
    expect(Buffer.from(train.images).equals(Buffer.from(test.images))).toBe(false);
  });

  it("grade difficulty over [0, 1) with both halves represented", () => {
    const pool = syntheticPool(1, [12, 12, 1], 5, "train", 100);
    const easy = pool.difficulty.filter((d) => d < 0.5).length;
    expect(Math.min(...pool.difficulty)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...pool.difficulty)).toBeLessThan(1);
    // Binomial(500, 0.5): 5 sigma is about 56.
    expect(Math.abs(easy - 250)).toBeLessThan(56);
  });

  it("put stronger class signal into easy examples than into hard ones", () => {
    // Signal proxy: distance of an example from the mean of other-class examples, measured
    // against its own class mean. Easy examples should correlate much more with their class mean.
    const classes = 4, shape = [20, 20, 1];
    const pool = syntheticPool(2, shape, classes, "train", 200);
    const px = 400;
    const means = Array.from({ length: classes }, () => new Float64Array(px));
    for (let i = 0; i < pool.count; i++) for (let p = 0; p < px; p++) means[pool.labels[i]!]![p]! += pool.images[i * px + p]! / (255 * 200);
    let easyRight = 0, easyN = 0, hardRight = 0, hardN = 0;
    for (let i = 0; i < pool.count; i++) {
      let best = -1, bestDistance = Infinity;
      for (let k = 0; k < classes; k++) {
        let distance = 0;
        for (let p = 0; p < px; p++) distance += (pool.images[i * px + p]! / 255 - means[k]![p]!) ** 2;
        if (distance < bestDistance) [best, bestDistance] = [k, distance];
      }
      const right = best === pool.labels[i] ? 1 : 0;
      if (pool.difficulty[i]! < 0.3) [easyRight, easyN] = [easyRight + right, easyN + 1];
      if (pool.difficulty[i]! > 0.7) [hardRight, hardN] = [hardRight + right, hardN + 1];
    }
    const easyAcc = easyRight / easyN, hardAcc = hardRight / hardN;
    expect(easyAcc).toBeGreaterThan(0.6); // chance is 0.25
    expect(easyAcc - hardAcc).toBeGreaterThan(0.2);
  });

  it("support the shape and class ranges, and reject others", () => {
    for (const [shape, classes] of [[[8, 8, 1], 2], [[32, 32, 3], 10], [[64, 64, 3], 100], [[12, 20, 1], 7]] as const) {
      const pool = syntheticPool(1, shape, classes, "test", 1);
      expect(pool.count).toBe(classes);
      expect(pool.images.length).toBe(classes * shape[0] * shape[1] * shape[2]);
    }
    expect(() => syntheticPool(1, [4, 4, 1], 2, "train", 1)).toThrow(DataError);
    expect(() => syntheticPool(1, [28, 28, 2], 2, "train", 1)).toThrow("1 or 3 channels");
    expect(() => syntheticPool(1, [28, 28, 1], 1, "train", 1)).toThrow("2..216 classes");
    expect(() => syntheticPool(1, [50], 10, "train", 1)).toThrow("50 is neither");
    expect(() => syntheticPool(1, [4, 4, 4, 1], 10, "train", 1)).toThrow("[H, W, C]");
  });

  it("a vector input gets the square image it flattens, byte for byte", () => {
    const grey = syntheticPool(1, [784], 10, "test", 2);
    expect(grey.shape).toEqual([28, 28, 1]);
    expect(grey.images).toEqual(syntheticPool(1, [28, 28, 1], 10, "test", 2).images);
    expect(syntheticPool(1, [192], 10, "test", 1).shape).toEqual([8, 8, 3]);
  });

  it("generate thousands of 28x28 images quickly", () => {
    const start = performance.now();
    const pool = syntheticPool(9, [28, 28, 1], 10, "train", 300);
    const ms = performance.now() - start;
    expect(pool.count).toBe(3000);
    // Well under a second on an idle core (about 0.1 s); generous for a shared machine.
    expect(ms).toBeLessThan(3000);
  });

  it("uses an accurate normal quantile for its noise table", () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
  });
});

describe("loadDataset on synthetic data", () => {
  it("has the requested balanced split sizes and shape [28, 28, 1]", async () => {
    const ds = await loadDataset(synthetic({ unlabeledPerClass: 5 }), [28, 28, 1], 10, 0);
    expect([ds.train.count, ds.val.count, ds.test.count, ds.unlabeled?.count]).toEqual([300, 100, 200, 50]);
    expect(classCounts(ds.train, 10)).toEqual(new Array(10).fill(30));
    expect(classCounts(ds.val, 10)).toEqual(new Array(10).fill(10));
    expect(classCounts(ds.test, 10)).toEqual(new Array(10).fill(20));
    expect(ds.shape).toEqual([28, 28, 1]);
    expect(ds.train.images.length).toBe(300 * 784);
    expect(ds.train.difficulty?.length).toBe(300);
    expect(ds.description).toContain("synthetic (generator seed 1)");
  });

  it("standardises each of 3 channels to mean 0, std 1 on train ([32, 32, 3])", async () => {
    const ds = await loadDataset(synthetic(), [32, 32, 3], 5, 0);
    expect(ds.shape).toEqual([32, 32, 3]);
    expect(ds.mean).toHaveLength(3);
    for (let ch = 0; ch < 3; ch++) {
      let sum = 0, sumSq = 0, n = 0;
      for (let i = ch; i < ds.train.images.length; i += 3) {
        sum += ds.train.images[i]!;
        sumSq += ds.train.images[i]! ** 2;
        n++;
      }
      expect(Math.abs(sum / n)).toBeLessThan(1e-4);
      expect(Math.sqrt(sumSq / n - (sum / n) ** 2)).toBeCloseTo(1, 3);
    }
  });

  it("gives the same bytes for the same seeds and a new subset for a new training seed", async () => {
    const a = await loadDataset(synthetic(), [16, 16, 1], 4, 0);
    const b = await loadDataset(synthetic(), [16, 16, 1], 4, 0);
    const c = await loadDataset(synthetic(), [16, 16, 1], 4, 1);
    expect(sameBytes(a.train.images, b.train.images)).toBe(true);
    expect(sameBytes(a.train.images, c.train.images)).toBe(false);
    // The test set does not depend on the training seed.
    expect(Buffer.from(rawBack(a)).equals(Buffer.from(rawBack(c)))).toBe(true);
  });

  it("uses the documented default pool sizes when counts are null", async () => {
    const ds = await loadDataset(synthetic({ perClass: null, testPerClass: null, valPerClass: 50 }), [8, 8, 1], 2, 0);
    expect(ds.train.count + ds.val.count).toBe(2 * SYNTHETIC_TRAIN_PER_CLASS);
    expect(ds.test.count).toBe(2 * SYNTHETIC_TEST_PER_CLASS);
  });
});

/** Test images mapped back to 8-bit pixel values (undoing the seed-dependent standardisation). */
function rawBack(ds: { test: Split; mean: number[]; std: number[] }): Uint8Array {
  return Uint8Array.from(ds.test.images, (v) => Math.round((v * ds.std[0]! + ds.mean[0]!) * 255));
}
