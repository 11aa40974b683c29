import { describe, expect, it } from "vitest";
import { learningRate } from "../../src/train/schedule.js";

describe("learningRate", () => {
  it("constant", () => {
    expect(learningRate({ kind: "constant" }, 0.1, 17, 30)).toBe(0.1);
  });

  it("multistep [15, 22], gamma 0.1", () => {
    const s = { kind: "multistep", milestones: [15, 22], gamma: 0.1 } as const;
    const lrs = [0, 14, 15, 21, 22, 29].map((e) => learningRate(s, 0.1, e, 30));
    const expected = [0.1, 0.1, 0.01, 0.01, 0.001, 0.001];
    lrs.forEach((lr, i) => expect(lr).toBeCloseTo(expected[i]!, 15));
  });

  it("cosine endpoints and midpoint", () => {
    const s = { kind: "cosine", minLr: 0.001 } as const;
    expect(learningRate(s, 0.1, 0, 30)).toBeCloseTo(0.1, 15);
    expect(learningRate(s, 0.1, 15, 30)).toBeCloseTo(0.0505, 15);
    expect(learningRate(s, 0.1, 30, 30)).toBeCloseTo(0.001, 15);
    // Last trained epoch (29): minLr + 0.099 * (1 + cos(29 pi / 30)) / 2.
    expect(learningRate(s, 0.1, 29, 30)).toBeCloseTo(0.001 + (0.099 * (1 + Math.cos((29 * Math.PI) / 30))) / 2, 15);
  });
});
