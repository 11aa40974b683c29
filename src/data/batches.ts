/** Epoch order and batch gathering for the trainer. */
import type { Split } from "./dataset.js";
import type { Rng } from "./rng.js";

/**
 * One epoch: a shuffled permutation of 0..count-1 cut into batches of `batchSize`;
 * the last batch is smaller when count is not a multiple (nothing is dropped).
 */
export function batchIndices(count: number, batchSize: number, rng: Rng): Int32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  rng.shuffle(order);
  const batches: Int32Array[] = [];
  for (let start = 0; start < count; start += batchSize) batches.push(order.subarray(start, Math.min(count, start + batchSize)));
  return batches;
}

export interface Batch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

/** Copies the examples at `indices` (in that order) out of a split. */
export function gatherBatch(split: Split, indices: ArrayLike<number>): Batch {
  const pixels = split.count > 0 ? split.images.length / split.count : 0;
  const images = new Float32Array(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]!;
    if (src < 0 || src >= split.count) throw new RangeError(`gatherBatch: index ${src} outside a split of ${split.count}`);
    images.set(split.images.subarray(src * pixels, (src + 1) * pixels), i * pixels);
    labels[i] = split.labels[src]!;
  }
  return { images, labels, count: indices.length };
}
