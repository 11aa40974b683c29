import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Dataset, type Split, loadDataset } from "../../src/data/dataset.js";
import { DataError } from "../../src/data/errors.js";
import { DEFAULT_FASHION_MNIST_DIR } from "../../src/data/idx.js";
import type { DataIR } from "../../src/ir/model.js";
import { tempDir, writeTinyDataset } from "./fixtures.js";

type IdxData = Extract<DataIR, { kind: "idx" | "fashion_mnist" }>;

function idxData(dir: string, overrides: Partial<IdxData> = {}): IdxData {
  return { kind: "idx", dir, perClass: null, valPerClass: 0, unlabeledPerClass: 0, testPerClass: null, normalize: false, ...overrides };
}

/** 30 train images (10 per class), 12 test (4 per class); 2x2x1; pixel p of image i is 7i + p. */
function tinyDir(gzip = false): string {
  const dir = tempDir();
  writeTinyDataset(dir, { h: 2, w: 2, classes: 3, train: 30, test: 12, gzip });
  return dir;
}

function classCounts(split: Split, classes: number): number[] {
  const counts = new Array(classes).fill(0);
  for (const label of split.labels) counts[label]++;
  return counts;
}

/** Recovers the file index of each image from its first pixel (7i / 255). */
function fileIndices(split: Split): number[] {
  return Array.from({ length: split.count }, (_, n) => Math.round((split.images[n * 4]! * 255) / 7));
}

async function expectDataError(promise: Promise<unknown>, ...fragments: string[]): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
}

describe("loadDataset on IDX files", () => {
  it("draws stratified, disjoint train / val / unlabeled subsets and a first-N test set", async () => {
    const dir = tinyDir(true);
    const data = idxData(dir, { perClass: 6, valPerClass: 2, unlabeledPerClass: 3, testPerClass: 2 });
    const ds = await loadDataset(data, [2, 2, 1], 3, 1);
    expect([ds.train.count, ds.val.count, ds.unlabeled?.count, ds.test.count]).toEqual([12, 6, 9, 6]);
    expect(classCounts(ds.train, 3)).toEqual([4, 4, 4]);
    expect(classCounts(ds.val, 3)).toEqual([2, 2, 2]);
    expect(Array.from(ds.unlabeled!.labels)).toEqual(new Array(9).fill(-1));
    // Test: the first two of each class in file order are files 0..5.
    expect(fileIndices(ds.test)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(ds.test.labels)).toEqual([0, 1, 2, 0, 1, 2]);
    // Labels stay attached to their images (label = file index mod 3), and the subsets are disjoint.
    const train = fileIndices(ds.train), val = fileIndices(ds.val), unlabeled = fileIndices(ds.unlabeled!);
    train.forEach((i, n) => expect(ds.train.labels[n]).toBe(i % 3));
    expect(new Set([...train, ...val, ...unlabeled]).size).toBe(27);
    expect(ds.shape).toEqual([2, 2, 1]);
    expect(ds.description).toContain("train 12, val 6, test 6, unlabeled 9");
  });

  it("keeps raw [0, 1] values when normalize is off", async () => {
    const ds = await loadDataset(idxData(tinyDir()), [2, 2, 1], 3, 1);
    expect(ds.train.count).toBe(30);
    expect(ds.unlabeled).toBeNull();
    expect(ds.mean).toEqual([0]);
    expect(ds.std).toEqual([1]);
    expect(ds.train.images[5 * 4 + 3]).toBeCloseTo((5 * 7 + 3) / 255, 7);
  });

  it("standardises with train statistics (hand-computed)", async () => {
    const ds = await loadDataset(idxData(tinyDir(), { normalize: true }), [2, 2, 1], 3, 1);
    // Train = all 30 images; values 7i + p, i < 30, p < 4:
    // mean = 7 * 14.5 + 1.5 = 103; variance = 49 * (30^2 - 1) / 12 + (4^2 - 1) / 12 = 44066 / 12.
    const std = Math.sqrt(44066 / 12);
    // Pixels are float32 (x / 255), so agreement is to float32 precision.
    expect(ds.mean[0]).toBeCloseTo(103 / 255, 6);
    expect(ds.std[0]).toBeCloseTo(std / 255, 6);
    // Test image 0 pixel 0 has raw value 0.
    expect(ds.test.images[0]).toBeCloseTo(-103 / std, 5);
    const mean = ds.train.images.reduce((a, b) => a + b, 0) / ds.train.images.length;
    expect(Math.abs(mean)).toBeLessThan(1e-6);
  });

  it("draws a new subset for each training seed, the same one for the same seed", async () => {
    const dir = tinyDir();
    const data = idxData(dir, { perClass: 4, valPerClass: 1 });
    const draw = async (seed: number): Promise<number[]> => fileIndices((await loadDataset(data, [2, 2, 1], 3, seed)).train);
    expect(await draw(1)).toEqual(await draw(1));
    expect(await draw(1)).not.toEqual(await draw(2));
  });

  it("rejects per-class counts larger than the data, naming the numbers", async () => {
    const dir = tinyDir();
    await expectDataError(
      loadDataset(idxData(dir, { perClass: 9, unlabeledPerClass: 2 }), [2, 2, 1], 3, 1),
      "class 0 has 10 training images",
      "9 labeled per class",
      "+ 2 unlabeled per class",
    );
    await expectDataError(loadDataset(idxData(dir, { testPerClass: 5 }), [2, 2, 1], 3, 1), "class 0 has 4 test images", "asks for 5 test images per class");
    await expectDataError(loadDataset(idxData(dir, { perClass: 3, valPerClass: 3 }), [2, 2, 1], 3, 1), "valPerClass (3) must be smaller than perClass (3)");
  });

  it("rejects an image shape that differs from the model input", async () => {
    await expectDataError(loadDataset(idxData(tinyDir()), [32, 32, 3], 3, 1), "spec input [32,32,3] but idx images are 2x2x1");
  });

  it("rejects labels outside the model's classes", async () => {
    await expectDataError(loadDataset(idxData(tinyDir()), [2, 2, 1], 2, 1), "label 2 at index 2 is out of range for a model with 2 classes");
  });

  it("names a missing directory and a missing file", async () => {
    await expectDataError(loadDataset(idxData("/nonexistent/mex-data"), [2, 2, 1], 3, 1), "IDX data directory /nonexistent/mex-data does not exist");
    const dir = tempDir();
    await expectDataError(loadDataset(idxData(dir), [2, 2, 1], 3, 1), `missing train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) in ${dir}`);
  });

  it("uses dirOverride instead of data.dir", async () => {
    const ds = await loadDataset(idxData("/nonexistent"), [2, 2, 1], 3, 1, { dirOverride: tinyDir() });
    expect(ds.train.count).toBe(30);
  });

  it("requires 10 classes for fashion_mnist", async () => {
    await expectDataError(loadDataset({ ...idxData(tinyDir()), kind: "fashion_mnist" }, [2, 2, 1], 5, 1), "fashion_mnist has 10 classes, but the model has 5");
  });
});

describe.skipIf(!existsSync(join(DEFAULT_FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz")))("Fashion-MNIST (installed files)", () => {
  it("loads 60 per class with 10 for validation, and the whole test set", async () => {
    const data: DataIR = {
      kind: "fashion_mnist",
      dir: DEFAULT_FASHION_MNIST_DIR,
      perClass: 60,
      valPerClass: 10,
      unlabeledPerClass: 0,
      testPerClass: null,
      normalize: true,
    };
    const ds: Dataset = await loadDataset(data, [28, 28, 1], 10, 0);
    expect([ds.train.count, ds.val.count, ds.test.count]).toEqual([500, 100, 10000]);
    expect(classCounts(ds.train, 10)).toEqual(new Array(10).fill(50));
    expect(classCounts(ds.val, 10)).toEqual(new Array(10).fill(10));
    expect(classCounts(ds.test, 10)).toEqual(new Array(10).fill(1000));
    let sum = 0, sumSq = 0;
    for (const v of ds.train.images) {
      sum += v;
      sumSq += v * v;
    }
    const n = ds.train.images.length;
    expect(Math.abs(sum / n)).toBeLessThan(1e-4);
    expect(Math.sqrt(sumSq / n - (sum / n) ** 2)).toBeCloseTo(1, 3);
    // Fashion-MNIST pixel mean is about 0.286 and std about 0.353 over the whole train set.
    expect(ds.mean[0]).toBeGreaterThan(0.2);
    expect(ds.mean[0]).toBeLessThan(0.37);
    expect(ds.std[0]).toBeGreaterThan(0.28);
    expect(ds.std[0]).toBeLessThan(0.42);
  });

  it("rejects a 32x32x3 model input with the actual image size", async () => {
    const data: DataIR = { kind: "fashion_mnist", dir: DEFAULT_FASHION_MNIST_DIR, perClass: 10, valPerClass: 1, unlabeledPerClass: 0, testPerClass: 1, normalize: true };
    await expectDataError(loadDataset(data, [32, 32, 3], 10, 0), "spec input [32,32,3] but fashion_mnist images are 28x28x1");
  });
});
