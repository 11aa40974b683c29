import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  accuracyAtBudget,
  applyThresholds,
  dynamic,
  findThresholds,
  geometricFractions,
  macsForAccuracy,
  paretoFrontier,
  sharedThresholds,
  splitView,
} from "../../src/eval/dynamic.js";
import { dynTest, dynVal, pathCost, threeExits } from "./fixtures.js";

const f32 = (x: number) => Math.fround(x);

describe("geometric target shares", () => {
  it("are q^m normalised", () => {
    geometricFractions(1, 3).forEach((p) => expect(p).toBeCloseTo(1 / 3, 12));
    const two = geometricFractions(2, 3);
    [1 / 7, 2 / 7, 4 / 7].forEach((p, m) => expect(two[m]).toBeCloseTo(p, 12));
  });
});

describe("MSDNet threshold search on validation", () => {
  const val = splitView(dynVal);
  it("q = 1: 3 of 10 leave at exit 1, then the 3 most confident of the remaining at exit 2", () => {
    // exit 1: 3rd highest of 0.95, 0.90, 0.85, ...; exit 2 among examples 3..9: 0.78, 0.76, 0.74.
    expect(findThresholds(val, geometricFractions(1, 3))).toEqual([f32(0.85), f32(0.74), 0]);
    expect(applyThresholds(val, [f32(0.85), f32(0.74), 0]).fractions).toEqual([0.3, 0.3, 0.4]);
  });
  it("q = 0.5: shares 4/7, 2/7, 1/7 -> floor 5 and 2 examples", () => {
    const t = findThresholds(val, geometricFractions(0.5, 3));
    expect(t).toEqual([f32(0.75), f32(0.76), 0]);
    expect(applyThresholds(val, t).fractions).toEqual([0.5, 0.2, 0.3]);
  });
  it("q = 2: shares 1/7, 2/7, 4/7 -> floor 1 and 2 examples", () => {
    expect(findThresholds(val, geometricFractions(2, 3))).toEqual([f32(0.95), f32(0.76), 0]);
  });
  it("a share that rounds to no example closes the exit", () => {
    // q = 0.05: shares ~0.950, 0.0475, 0.0024 -> 9 examples, then 0 (closed).
    const t = findThresholds(val, geometricFractions(0.05, 3));
    expect(t).toEqual([f32(0.55), Number.POSITIVE_INFINITY, 0]);
    expect(applyThresholds(val, t).fractions).toEqual([0.9, 0, 0.1]);
  });
});

describe("dynamic points on test (thresholds from validation)", () => {
  const r = dynamic(dynVal, dynTest, threeExits, {
    exitCostIfStopAt: pathCost,
    geometricQs: [1, 0.5],
    thresholds: [0, 0.75, 1.05],
  });
  const [q1, qHalf, t0, t75, tOver] = r.points;

  it("q = 1 reuses thresholds (0.85, 0.74) on test: fractions, accuracy, expected MACs", () => {
    expect(q1.kind).toBe("geometric");
    expect(q1.thresholds).toEqual([f32(0.85), f32(0.74), 0]);
    // exit 1: examples 0,1; exit 2: 2,3 (0.74 >= 0.74),6,8; exit 3: 4,5,7,9.
    expect(q1.exitFractions).toEqual([0.2, 0.4, 0.4]);
    // correct: 0 | 2,3,8 | 4,5,9 -> 7 of 10.
    expect(q1.top1).toBeCloseTo(0.7, 12);
    expect(q1.expectedMacs).toBeCloseTo(0.2 * 10 + 0.4 * 25 + 0.4 * 45, 9); // 30
    expect(q1.expectedMacsCumulative).toBeCloseTo(0.2 * 10 + 0.4 * 20 + 0.4 * 35, 9); // 24
    expect(q1.valExitFractions).toEqual([0.3, 0.3, 0.4]);
    expect(q1.valTop1).toBeCloseTo(0.9, 12); // example 7 is wrong at exit 2 on validation
  });

  it("q = 0.5 on test", () => {
    // exit 1 (>= 0.75): 0,1,2,3; exit 2 (>= 0.76): 8; exit 3: 4,5,6,7,9.
    expect(qHalf.exitFractions).toEqual([0.4, 0.1, 0.5]);
    expect(qHalf.top1).toBeCloseTo(0.8, 12); // correct: 0,2,3 | 8 | 4,5,6,9 -> 8 of 10
    expect(qHalf.expectedMacs).toBeCloseTo(4 + 2.5 + 22.5, 9);
  });

  it("shared threshold 0: everyone answers at exit 1", () => {
    expect(t0.thresholds).toEqual([0, 0, 0]);
    expect(t0.exitFractions).toEqual([1, 0, 0]);
    expect(t0.top1).toBe(0.5);
    expect(t0.expectedMacs).toBe(10);
  });

  it("shared threshold above 1: everyone answers at the last exit", () => {
    expect(tOver.exitFractions).toEqual([0, 0, 1]);
    expect(tOver.top1).toBe(0.9);
    expect(tOver.expectedMacs).toBe(45);
    expect(tOver.expectedMacsCumulative).toBe(35);
  });

  it("shared threshold 0.75", () => {
    // exit 1: 0,1,2,3; exit 2: 6 (0.75), 8; exit 3: 4,5,7,9.
    expect(t75.exitFractions).toEqual([0.4, 0.2, 0.4]);
    expect(t75.top1).toBeCloseTo(0.7, 12);
    expect(t75.expectedMacs).toBeCloseTo(27, 9);
  });

  it("frontier over all points is (10, 0.5), (27, 0.7), (29, 0.8), (45, 0.9)", () => {
    // q = 1 (30, 0.7) is dominated by threshold 0.75 (27, 0.7).
    expect(r.costModel).toBe("path");
    expect(r.frontier.map((p) => [p.expectedMacs, p.top1])).toEqual([
      [t0.expectedMacs, t0.top1],
      [t75.expectedMacs, t75.top1],
      [qHalf.expectedMacs, qHalf.top1],
      [tOver.expectedMacs, tOver.top1],
    ]);
  });

  it("without a path cost, expected MACs fall back to cumulative MACs", () => {
    const c = dynamic(dynVal, dynTest, threeExits, { geometricQs: [1], thresholds: [] });
    expect(c.costModel).toBe("cumulative");
    expect(c.points[0].expectedMacs).toBeCloseTo(24, 9);
  });

  it("the default sweeps are MSDNet's 39 q values and 21 thresholds", () => {
    const d = dynamic(dynVal, dynTest, threeExits);
    expect(d.points.filter((p) => p.kind === "geometric")).toHaveLength(39);
    expect(d.points.filter((p) => p.kind === "threshold").map((p) => p.param)).toEqual(
      Array.from({ length: 21 }, (_, i) => i / 20),
    );
    expect(sharedThresholds(0.3, 3)).toEqual([0.3, 0.3, 0]);
  });
});

describe("frontier and interpolation", () => {
  const pts = [
    [30, 0.7],
    [10, 0.5],
    [20, 0.4],
    [20, 0.6],
    [27, 0.7],
    [45, 0.9],
    [40, 0.85],
  ].map(([expectedMacs, top1]) => ({ expectedMacs, top1 }));
  const frontier = paretoFrontier(pts);

  it("keeps only points better than every cheaper one", () => {
    expect(frontier.map((p) => [p.expectedMacs, p.top1])).toEqual([
      [10, 0.5],
      [20, 0.6],
      [27, 0.7],
      [40, 0.85],
      [45, 0.9],
    ]);
  });

  it("is strictly increasing in cost and accuracy for any input", () => {
    const point = fc.record({ expectedMacs: fc.integer({ min: 0, max: 100 }), top1: fc.double({ min: 0, max: 1, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 30 }), (ps) => {
        const f = paretoFrontier(ps);
        for (let i = 1; i < f.length; i++) {
          if (!(f[i].expectedMacs > f[i - 1].expectedMacs && f[i].top1 > f[i - 1].top1)) return false;
        }
        // No input point is above the interpolated frontier at its own cost.
        return ps.every((p) => (accuracyAtBudget(f, p.expectedMacs) ?? -1) >= p.top1 - 1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it("accuracyAtBudget interpolates, null below, clamped above", () => {
    expect(accuracyAtBudget(frontier, 5)).toBeNull();
    expect(accuracyAtBudget(frontier, 10)).toBe(0.5);
    expect(accuracyAtBudget(frontier, 15)).toBeCloseTo(0.55, 12);
    expect(accuracyAtBudget(frontier, 33.5)).toBeCloseTo(0.775, 12);
    expect(accuracyAtBudget(frontier, 100)).toBe(0.9);
    expect(accuracyAtBudget([], 100)).toBeNull();
  });

  it("macsForAccuracy is the cheapest interpolated cost, null if never reached", () => {
    expect(macsForAccuracy(frontier, 0.3)).toBe(10);
    expect(macsForAccuracy(frontier, 0.55)).toBeCloseTo(15, 9);
    expect(macsForAccuracy(frontier, 0.775)).toBeCloseTo(33.5, 9);
    expect(macsForAccuracy(frontier, 0.9)).toBe(45);
    expect(macsForAccuracy(frontier, 0.95)).toBeNull();
  });
});
