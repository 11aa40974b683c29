import { describe, expect, it } from "vitest";
import { anytime } from "../../src/eval/anytime.js";
import { rankOf, topKAccuracy } from "../../src/eval/metrics.js";
import type { ExitOutputs } from "../../src/eval/types.js";
import { rows } from "./fixtures.js";

// 4 examples, 3 classes, labels [0, 1, 2, 0].
const out: ExitOutputs = {
  probs: [
    rows([
      [0.6, 0.3, 0.1], // argmax 0: correct
      [0.5, 0.5, 0.0], // tie 0/1 -> first argmax 0: wrong
      [0.2, 0.3, 0.5], // correct
      [0.1, 0.7, 0.2], // wrong, label ranks last
    ]),
    rows([
      [0.35, 0.55, 0.1], // wrong
      [0.1, 0.8, 0.1], // correct
      [0.3, 0.3, 0.4], // correct
      [0.4, 0.5, 0.1], // wrong
    ]),
  ],
  labels: Int32Array.from([0, 1, 2, 0]),
  classes: 3,
};
const exits = [
  { name: "a", cumulativeMacs: 100 },
  { name: "b", cumulativeMacs: 250 },
];

describe("anytime", () => {
  it("reports each exit alone and the running ensemble", () => {
    const r = anytime(out, exits);
    expect(r.map((x) => x.exit)).toEqual(["a", "b"]);
    expect(r.map((x) => x.macs)).toEqual([100, 250]);
    expect(r[0].top1).toBe(0.5);
    expect(r[1].top1).toBe(0.5);
    // exit 1 alone is the first "ensemble".
    expect(r[0].ensembleTop1).toBe(0.5);
    // sums: [0.95,0.85,0.2] -> 0 ok; [0.6,1.3,0.1] -> 1 ok; [0.5,0.6,0.9] -> 2 ok; [0.5,1.2,0.3] -> 1 wrong.
    expect(r[1].ensembleTop1).toBe(0.75);
  });

  it("top-5 with fewer than 5 classes is 1", () => {
    const r = anytime(out, exits);
    expect(r.map((x) => [x.top5, x.ensembleTop5])).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });

  it("ranks break ties like argmax (lower class index first)", () => {
    const p = out.probs[0];
    expect(rankOf(p, 3, 1, 1)).toBe(1); // class 0 ties at 0.5 and has the lower index
    expect(rankOf(p, 3, 3, 0)).toBe(2);
    expect(topKAccuracy(p, out.labels, 3, 2)).toBe(0.75);
  });

  it("top-5 among 7 classes counts a label ranked 5th but not 6th", () => {
    const seven: ExitOutputs = {
      probs: [
        rows([
          [0.3, 0.2, 0.15, 0.1, 0.05, 0.1, 0.1], // label 5
          [0.3, 0.2, 0.15, 0.1, 0.05, 0.1, 0.1], // label 4 (0.05): beaten by all six others
        ]),
      ],
      labels: Int32Array.from([5, 4]),
      classes: 7,
    };
    // label 5 (0.1): beaten by 0,1,2 (larger) and 3 (tie, lower index) -> rank 4 -> in the top 5;
    // class 6 (0.1) would also lose to 5 -> rank 5 -> out.
    expect(rankOf(seven.probs[0], 7, 0, 5)).toBe(4);
    expect(rankOf(seven.probs[0], 7, 0, 6)).toBe(5);
    expect(rankOf(seven.probs[0], 7, 1, 4)).toBe(6);
    const r = anytime(seven, [{ name: "only", cumulativeMacs: 1 }]);
    expect(r[0].top5).toBe(0.5);
    expect(r[0].top1).toBe(0);
  });
});
