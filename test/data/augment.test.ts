import { describe, expect, it } from "vitest";
import { augmentBatch, flipHorizontal, shiftWithZeros } from "../../src/data/augment.js";
import { Rng } from "../../src/data/rng.js";

/** Image n, pixel (y, x), channel ch has value 1000n + 100y + 10x + ch + 1 (never 0). */
function known(n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
    out[((i * h + y) * w + x) * c + ch] = 1000 * i + 100 * y + 10 * x + ch + 1;
  }
  return out;
}

describe("flip", () => {
  it("reverses columns of a hand-written 2x3x2 image", () => {
    const image = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    flipHorizontal(image, 2, 3, 2);
    expect(Array.from(image)).toEqual([5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8]);
  });

  it("flips about half of the examples, and twice is the identity", () => {
    const images = known(200, 5, 4, 3);
    const once = augmentBatch(images, 200, [5, 4, 3], [{ kind: "flip" }], new Rng(1));
    const pixels = 60;
    expect(Array.from(augmentBatch(images, 200, [5, 4, 3], [], new Rng(1)))).toEqual(Array.from(images));
    let flipped = 0;
    for (let i = 0; i < 200; i++) if (once[i * pixels] !== images[i * pixels]) flipped++;
    // Binomial(200, 0.5): 5 sigma is about 35.
    expect(Math.abs(flipped - 100)).toBeLessThan(35);
    // Flipping twice restores the known image exactly.
    const image = known(1, 5, 4, 3);
    flipHorizontal(image, 5, 4, 3);
    flipHorizontal(image, 5, 4, 3);
    expect(Array.from(image)).toEqual(Array.from(known(1, 5, 4, 3)));
  });

  it("does not modify its input", () => {
    const images = known(4, 3, 3, 1);
    augmentBatch(images, 4, [3, 3, 1], [{ kind: "flip" }, { kind: "crop", pad: 1 }], new Rng(2));
    expect(Array.from(images)).toEqual(Array.from(known(4, 3, 3, 1)));
  });
});

describe("crop", () => {
  it("with pad 0 is the identity", () => {
    const images = known(10, 6, 5, 3);
    expect(Array.from(augmentBatch(images, 10, [6, 5, 3], [{ kind: "crop", pad: 0 }], new Rng(3)))).toEqual(Array.from(images));
  });

  it("keeps the size and shows padded zeros where the window leaves the image", () => {
    const [h, w, c] = [6, 5, 2];
    const n = 300;
    const images = known(n, h, w, c);
    const out = augmentBatch(images, n, [h, w, c], [{ kind: "crop", pad: 2 }], new Rng(4));
    expect(out.length).toBe(images.length);
    let sawZeros = 0;
    for (let i = 0; i < n; i++) {
      // Recover the shift from the value at an interior pixel that is in range for any shift of up to 2.
      const centre = out[((i * h + 2) * w + 2) * c]!;
      const dy = Math.round((centre - 1000 * i - 1 - 200 - 20) / 100);
      const dx = Math.round((centre - 1000 * i - 1 - 200 - 20 - 100 * dy) / 10);
      expect(Math.abs(dy)).toBeLessThanOrEqual(2);
      expect(Math.abs(dx)).toBeLessThanOrEqual(2);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
        const [sy, sx] = [y + dy, x + dx];
        const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        const expected = inside ? 1000 * i + 100 * sy + 10 * sx + ch + 1 : 0;
        expect(out[((i * h + y) * w + x) * c + ch]).toBe(expected);
        if (!inside) sawZeros++;
      }
    }
    expect(sawZeros).toBeGreaterThan(0);
  });

  it("shifts a hand-written 3x3 image down-right by one", () => {
    const image = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    shiftWithZeros(image, new Float32Array(9), 3, 3, 1, -1, -1);
    expect(Array.from(image)).toEqual([0, 0, 0, 0, 1, 2, 0, 4, 5]);
  });

  it("with a pad larger than the image can produce an all-zero image", () => {
    const image = Float32Array.from([1, 2, 3, 4]);
    shiftWithZeros(image, new Float32Array(4), 2, 2, 1, 2, 0);
    expect(Array.from(image)).toEqual([0, 0, 0, 0]);
  });

  it("is deterministic for a seed", () => {
    const images = known(8, 4, 4, 1);
    const augment = [{ kind: "flip" }, { kind: "crop", pad: 1 }] as const;
    expect(Array.from(augmentBatch(images, 8, [4, 4, 1], augment, new Rng(9)))).toEqual(Array.from(augmentBatch(images, 8, [4, 4, 1], augment, new Rng(9))));
  });
});
