/**
 * Training-time augmentation on NHWC float batches, in plain typed-array loops (no tfjs).
 * - flip: horizontal flip with probability 0.5.
 * - crop(pad): zero-pad by `pad` on every side and crop a random HxW window back. Zero is the
 *   channel mean in standardised space, so the padding is "average" pixels (as the CIFAR recipe does).
 * Operations apply in the order listed, per example; the input array is not modified.
 */
import type { AugmentIR } from "../ir/model.js";
import type { Rng } from "./rng.js";

export function augmentBatch(images: Float32Array, n: number, shape: readonly number[], augment: readonly AugmentIR[], rng: Rng): Float32Array {
  const [h, w, c] = shape as [number, number, number];
  const pixels = h * w * c;
  if (images.length !== n * pixels) {
    throw new RangeError(`augmentBatch: ${n} images of [${shape.join(", ")}] need ${n * pixels} values, got ${images.length}`);
  }
  const out = images.slice();
  if (augment.length === 0) return out;
  const scratch = new Float32Array(pixels);
  for (let i = 0; i < n; i++) {
    const example = out.subarray(i * pixels, (i + 1) * pixels);
    for (const op of augment) {
      if (op.kind === "flip") {
        if (rng.next() < 0.5) flipHorizontal(example, h, w, c);
      } else {
        const dy = rng.int(2 * op.pad + 1) - op.pad;
        const dx = rng.int(2 * op.pad + 1) - op.pad;
        shiftWithZeros(example, scratch, h, w, c, dy, dx);
      }
    }
  }
  return out;
}

/** Reverses the columns of one HWC image in place. */
export function flipHorizontal(image: Float32Array, h: number, w: number, c: number): void {
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let left = 0, right = w - 1; left < right; left++, right--) {
      const a = (row + left) * c, b = (row + right) * c;
      for (let ch = 0; ch < c; ch++) {
        const tmp = image[a + ch]!;
        image[a + ch] = image[b + ch]!;
        image[b + ch] = tmp;
      }
    }
  }
}

/**
 * A pad-and-crop is a shift: output(y, x) = input(y + dy, x + dx), 0 outside the image, where
 * (dy, dx) in [-pad, pad] is the crop offset minus the padding. In place, via `scratch`.
 */
export function shiftWithZeros(image: Float32Array, scratch: Float32Array, h: number, w: number, c: number, dy: number, dx: number): void {
  if (dy === 0 && dx === 0) return;
  scratch.fill(0);
  const y0 = Math.max(0, -dy), y1 = Math.min(h, h - dy);
  const x0 = Math.max(0, -dx), x1 = Math.min(w, w - dx);
  if (x1 > x0) {
    for (let y = y0; y < y1; y++) {
      const to = (y * w + x0) * c;
      const from = ((y + dy) * w + x0 + dx) * c;
      scratch.set(image.subarray(from, from + (x1 - x0) * c), to);
    }
  }
  image.set(scratch);
}
