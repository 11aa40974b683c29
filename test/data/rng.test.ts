import { describe, expect, it } from "vitest";
import { deriveSeed, Rng } from "../../src/data/rng.js";

describe("Rng", () => {
  it("matches the xoshiro128** reference outputs for state [1, 2, 3, 4]", () => {
    // Reference vector of the xoshiro128** C code (also used by rand_xoshiro's tests).
    const rng = Rng.fromState(1, 2, 3, 4);
    const expected = [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804];
    expect(expected.map(() => rng.nextUint32())).toEqual(expected);
  });

  it("is deterministic per seed and differs between seeds", () => {
    const draw = (seed: number): number[] => {
      const rng = new Rng(seed);
      return Array.from({ length: 5 }, () => rng.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(2 ** 40)).not.toEqual(draw(0)); // high bits of large seeds are not dropped
    expect(draw(-1)).not.toEqual(draw(1));
  });

  it("next() is in [0, 1) and int(n) in [0, n) covering every value", () => {
    const rng = new Rng(7);
    const seen = new Array(6).fill(0);
    for (let i = 0; i < 6000; i++) {
      const u = rng.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      seen[rng.int(6)]++;
    }
    // Each face expected 1000; 5 sigma is about 145.
    for (const count of seen) expect(Math.abs(count - 1000)).toBeLessThan(150);
    expect(rng.int(1)).toBe(0);
    expect(() => rng.int(0)).toThrow(RangeError);
  });

  it("normal() has mean ~0 and variance ~1", () => {
    const rng = new Rng(3);
    let sum = 0, sumSq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    // Standard error of the mean is 1/sqrt(n) = 0.007; of the variance about sqrt(2/n) = 0.01.
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.05);
  });

  it("shuffle() permutes in place, deterministically", () => {
    const a = Array.from({ length: 20 }, (_, i) => i);
    const b = Int32Array.from(a);
    new Rng(5).shuffle(a);
    new Rng(5).shuffle(b);
    expect(Array.from(b)).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("deriveSeed separates tags", () => {
    expect(deriveSeed(1, "a")).toBe(deriveSeed(1, "a"));
    expect(deriveSeed(1, "a")).not.toBe(deriveSeed(1, "b"));
    expect(deriveSeed(1, "ab", "c")).not.toBe(deriveSeed(1, "a", "bc"));
    expect(deriveSeed(1, "a")).not.toBe(deriveSeed(2, "a"));
  });
});
