/**
 * The public entry of the data layer: DataIR + model input shape + training seed -> splits.
 *
 * Both sources (IDX files, the synthetic generator) produce byte pools (a train pool and a test
 * pool); everything after that is shared: the stratified subset draw, conversion to [0, 1],
 * and per-channel standardisation with train-split statistics.
 *
 * Subset semantics (DataIR):
 * - In every class of the train pool, the examples are shuffled with a stream derived from the
 *   *training* seed (so each seed draws a new labeled subset, as the paper does). The first
 *   `perClass` (null = all of that class but the unlabeled ones) are labeled; of those the first `valPerClass`
 *   go to validation and the rest to train. The next `unlabeledPerClass` form the unlabeled pool
 *   (labels -1), disjoint from the labeled ones.
 * - Test: the first `testPerClass` examples of every class in file order (null = all); no
 *   randomness, so every seed is scored on the same test set.
 * - Within a split, examples keep pool (file) order; batch order is the trainer's business.
 * - Synthetic pools: the generator seed is DataIR `seed`; the train pool has
 *   (perClass ?? 500) + unlabeledPerClass examples per class, the test pool testPerClass ?? 100.
 */
import type { DataIR, Shape } from "../ir/model.js";
import { FASHION_MNIST_CLASSES, inputTakes } from "../ir/data.js";
import { DataError } from "./errors.js";
import { DEFAULT_FASHION_MNIST_DIR, readIdxPart, requireDataDir } from "./idx.js";
import { deriveSeed, Rng } from "./rng.js";
import { SYNTHETIC_TEST_PER_CLASS, SYNTHETIC_TRAIN_PER_CLASS, syntheticPool } from "./synthetic.js";

export interface Split {
  /** NHWC, float: in [0, 1], then standardised if `normalize`. */
  readonly images: Float32Array;
  /** Class indices; -1 in the unlabeled pool. */
  readonly labels: Int32Array;
  readonly count: number;
  /** Synthetic data only: per-example difficulty in [0, 1) (0 = easiest). */
  readonly difficulty?: Float32Array;
}

export interface Dataset {
  readonly train: Split;
  readonly val: Split;
  readonly test: Split;
  /** Null when `unlabeledPerClass` is 0. */
  readonly unlabeled: Split | null;
  /** Image shape of one example; a vector model input ([H * W * C]) takes the same bytes flattened. */
  readonly shape: [number, number, number];
  readonly classes: number;
  /** Per-channel statistics that were subtracted / divided (0 and 1 when `normalize` is off). */
  readonly mean: number[];
  readonly std: number[];
  /** One line for logs and run records. */
  readonly description: string;
}

export interface LoadOptions {
  /** Read IDX files from here instead of `data.dir` (tests, CLI overrides). */
  readonly dirOverride?: string;
}

/** A part of a dataset as bytes, before subsetting. */
interface BytePool {
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly count: number;
  readonly shape: [number, number, number];
  readonly difficulty?: Float32Array;
  /** For messages: "train-labels-idx1-ubyte.gz" or "synthetic train pool". */
  readonly origin: string;
}

export async function loadDataset(data: DataIR, input: Shape, classes: number, seed: number, opts: LoadOptions = {}): Promise<Dataset> {
  checkCounts(data);
  const { train: trainPool, test: testPool, name } = data.kind === "synthetic" ? syntheticPools(data, input, classes) : idxPools(data, input, classes, opts);

  const labelsOk = (pool: BytePool): void => checkLabels(pool, classes);
  labelsOk(trainPool);
  labelsOk(testPool);

  const draw = drawSubsets(trainPool, classes, data, seed);
  const testIndices = firstPerClass(testPool, classes, data.testPerClass);

  const train = toSplit(trainPool, draw.train, false);
  const channels = trainPool.shape[2];
  const { mean, std } = data.normalize ? channelStats(train.images, channels) : { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) };
  const splits = {
    train,
    val: toSplit(trainPool, draw.val, false),
    test: toSplit(testPool, testIndices, false),
    unlabeled: draw.unlabeled.length > 0 ? toSplit(trainPool, draw.unlabeled, true) : null,
  };
  if (data.normalize) {
    for (const split of [splits.train, splits.val, splits.test, splits.unlabeled]) if (split) standardise(split.images, mean, std);
  }
  const [h, w, c] = trainPool.shape;
  const description =
    `${name}: ${h}x${w}x${c}${input.length === 1 ? ` (flattened to ${input[0]} features)` : ""}, ${classes} classes; train ${splits.train.count}, val ${splits.val.count}, test ${splits.test.count}` +
    (splits.unlabeled ? `, unlabeled ${splits.unlabeled.count}` : "") +
    ` (subset seed ${seed})${data.normalize ? ", per-channel standardised" : ""}`;
  return { ...splits, shape: trainPool.shape, classes, mean, std, description };
}

function checkCounts(data: DataIR): void {
  const nonNegative = (name: string, value: number): void => {
    if (!Number.isInteger(value) || value < 0) throw new DataError(`${name} must be a non-negative integer, got ${value}`);
  };
  nonNegative("valPerClass", data.valPerClass);
  nonNegative("unlabeledPerClass", data.unlabeledPerClass);
  if (data.perClass !== null) {
    nonNegative("perClass", data.perClass);
    if (data.valPerClass >= data.perClass) {
      throw new DataError(`valPerClass (${data.valPerClass}) must be smaller than perClass (${data.perClass}), or no training images are left`);
    }
  }
  if (data.testPerClass !== null) nonNegative("testPerClass", data.testPerClass);
}

function syntheticPools(data: Extract<DataIR, { kind: "synthetic" }>, input: Shape, classes: number): { train: BytePool; test: BytePool; name: string } {
  const trainPerClass = (data.perClass ?? SYNTHETIC_TRAIN_PER_CLASS) + data.unlabeledPerClass;
  const testPerClass = data.testPerClass ?? SYNTHETIC_TEST_PER_CLASS;
  const train = syntheticPool(data.seed, input, classes, "train", trainPerClass);
  const test = syntheticPool(data.seed, input, classes, "test", testPerClass);
  return {
    train: { ...train, origin: "synthetic train pool" },
    test: { ...test, origin: "synthetic test pool" },
    name: `synthetic (generator seed ${data.seed})`,
  };
}

function idxPools(data: Extract<DataIR, { kind: "fashion_mnist" | "idx" }>, input: Shape, classes: number, opts: LoadOptions): { train: BytePool; test: BytePool; name: string } {
  const dir = opts.dirOverride ?? data.dir;
  if (data.kind === "fashion_mnist" && classes !== FASHION_MNIST_CLASSES) {
    throw new DataError(`fashion_mnist has ${FASHION_MNIST_CLASSES} classes, but the model has ${classes}`);
  }
  requireDataDir(dir, data.kind === "fashion_mnist" ? "Fashion-MNIST" : "IDX data");
  const train = readIdxPart(dir, "train");
  const test = readIdxPart(dir, "test");
  const [h, w, c] = train.shape;
  if (!inputTakes(input, train.shape)) {
    throw new DataError(`spec input [${input.join(",")}] but ${data.kind} images are ${h}x${w}x${c} (${train.imagesFile}); use input [${h}, ${w}, ${c}] or [${h * w * c}]`, train.imagesFile);
  }
  if (test.shape.some((d, i) => d !== train.shape[i])) {
    throw new DataError(`${test.imagesFile} has ${test.shape.join("x")} images but ${train.imagesFile} has ${train.shape.join("x")}`, test.imagesFile);
  }
  const label = dir === DEFAULT_FASHION_MNIST_DIR ? data.kind : `${data.kind} ${dir}`;
  return {
    train: { ...train, origin: train.labelsFile },
    test: { ...test, origin: test.labelsFile },
    name: label,
  };
}

function checkLabels(pool: BytePool, classes: number): void {
  for (let i = 0; i < pool.count; i++) {
    const label = pool.labels[i]!;
    if (label >= classes) {
      throw new DataError(`${pool.origin}: label ${label} at index ${i} is out of range for a model with ${classes} classes (labels 0..${classes - 1})`);
    }
  }
}

/** Indices of each class, in pool order. */
function indicesByClass(pool: BytePool, classes: number): number[][] {
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < pool.count; i++) byClass[pool.labels[i]!]!.push(i);
  return byClass;
}

interface SubsetDraw {
  readonly train: number[];
  readonly val: number[];
  readonly unlabeled: number[];
}

/**
 * The stratified, training-seeded draw of train / val / unlabeled indices (sorted into pool order).
 * With `perClass` null every class keeps all its images (minus the unlabeled ones), so an
 * unbalanced IDX file stays as unbalanced as it is.
 */
function drawSubsets(pool: BytePool, classes: number, data: DataIR, seed: number): SubsetDraw {
  const byClass = indicesByClass(pool, classes);
  const rng = new Rng(deriveSeed(seed, "data-subset"));
  const train: number[] = [], val: number[] = [], unlabeled: number[] = [];
  byClass.forEach((list, klass) => {
    const labeledPerClass = data.perClass ?? list.length - data.unlabeledPerClass;
    const needed = labeledPerClass + data.unlabeledPerClass;
    if (needed > list.length || labeledPerClass <= data.valPerClass) {
      throw new DataError(
        `${pool.origin}: class ${klass} has ${list.length} training images, but the spec asks for ` +
          `${data.perClass ?? "all"} labeled per class (${data.valPerClass} of them for validation, at least 1 left for training)` +
          ` + ${data.unlabeledPerClass} unlabeled per class`,
      );
    }
    const order = rng.shuffle(list.slice());
    val.push(...order.slice(0, data.valPerClass));
    train.push(...order.slice(data.valPerClass, labeledPerClass));
    unlabeled.push(...order.slice(labeledPerClass, needed));
  });
  const byIndex = (a: number, b: number): number => a - b;
  return { train: train.sort(byIndex), val: val.sort(byIndex), unlabeled: unlabeled.sort(byIndex) };
}

/** The first `perClass` examples of every class in pool order (all when null). */
function firstPerClass(pool: BytePool, classes: number, perClass: number | null): number[] {
  if (perClass === null) return Array.from({ length: pool.count }, (_, i) => i);
  const byClass = indicesByClass(pool, classes);
  byClass.forEach((list, klass) => {
    if (perClass > list.length) {
      throw new DataError(`${pool.origin}: class ${klass} has ${list.length} test images, but the spec asks for ${perClass} test images per class`);
    }
  });
  return byClass.flatMap((list) => list.slice(0, perClass)).sort((a, b) => a - b);
}

/** Gathers `indices` of the pool as floats in [0, 1]. */
function toSplit(pool: BytePool, indices: readonly number[], unlabeled: boolean): Split {
  const [h, w, c] = pool.shape;
  const pixels = h * w * c;
  const images = new Float32Array(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  const difficulty = pool.difficulty ? new Float32Array(indices.length) : undefined;
  indices.forEach((src, dst) => {
    const from = src * pixels, to = dst * pixels;
    for (let p = 0; p < pixels; p++) images[to + p] = pool.images[from + p]! / 255;
    labels[dst] = unlabeled ? -1 : pool.labels[src]!;
    if (difficulty) difficulty[dst] = pool.difficulty![src]!;
  });
  return difficulty ? { images, labels, count: indices.length, difficulty } : { images, labels, count: indices.length };
}

/** Per-channel mean and (population) standard deviation of NHWC images; a constant channel gets std 1. */
export function channelStats(images: Float32Array, channels: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(channels), sumSq = new Float64Array(channels);
  for (let i = 0; i < images.length; i++) {
    const v = images[i]!, ch = i % channels;
    sum[ch]! += v;
    sumSq[ch]! += v * v;
  }
  const perChannel = images.length / channels;
  const mean = Array.from(sum, (s) => (perChannel > 0 ? s / perChannel : 0));
  const std = Array.from(sumSq, (s, ch) => {
    const variance = perChannel > 0 ? s / perChannel - mean[ch]! ** 2 : 0;
    // A constant channel carries no information; dividing by ~0 would only blow up noise.
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  return { mean, std };
}

function standardise(images: Float32Array, mean: readonly number[], std: readonly number[]): void {
  const channels = mean.length;
  for (let i = 0; i < images.length; i++) {
    const ch = i % channels;
    images[i] = (images[i]! - mean[ch]!) / std[ch]!;
  }
}
