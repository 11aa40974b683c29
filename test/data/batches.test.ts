import { describe, expect, it } from "vitest";
import { batchIndices, gatherBatch } from "../../src/data/batches.js";
import { Rng } from "../../src/data/rng.js";

describe("batchIndices", () => {
  it("cuts a permutation into full batches and one remainder", () => {
    const batches = batchIndices(10, 4, new Rng(1));
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    const all = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("gives a new order per epoch and the same order per seed", () => {
    const rng = new Rng(2);
    const epoch1 = batchIndices(50, 50, rng)[0]!;
    const epoch2 = batchIndices(50, 50, rng)[0]!;
    expect(Array.from(epoch1)).not.toEqual(Array.from(epoch2));
    expect(Array.from(batchIndices(50, 50, new Rng(2))[0]!)).toEqual(Array.from(epoch1));
  });

  it("handles an empty split and rejects a bad batch size", () => {
    expect(batchIndices(0, 8, new Rng(1))).toEqual([]);
    expect(() => batchIndices(4, 0, new Rng(1))).toThrow(RangeError);
  });
});

describe("gatherBatch", () => {
  it("copies images and labels in index order", () => {
    // 3 examples of 2 values each.
    const split = { images: Float32Array.from([0, 1, 10, 11, 20, 21]), labels: Int32Array.from([5, 6, 7]), count: 3 };
    const batch = gatherBatch(split, [2, 0]);
    expect(Array.from(batch.images)).toEqual([20, 21, 0, 1]);
    expect(Array.from(batch.labels)).toEqual([7, 5]);
    expect(batch.count).toBe(2);
    expect(() => gatherBatch(split, [3])).toThrow("index 3 outside a split of 3");
  });
});
