import { describe, expect, it } from "vitest";
import { Temperature } from "../../src/train/temperature.js";

describe("Temperature", () => {
  it("adaptive: tau *= factor after each batch with confidence > mu, never decreases", () => {
    const t = new Temperature({ kind: "adaptive", start: 1, confidence: 0.5, factor: 1.05 }, 10);
    expect(t.needsConfidence).toBe(true);
    const seen = [t.value];
    for (const c of [0.6, 0.4, 0.7, 0.5, 0.1, 0.9]) {
      t.afterBatch(c);
      t.startEpoch(3); // epochs do not move the adaptive rule
      seen.push(t.value);
    }
    // 0.5 is not > 0.5, so it does not fire.
    const expected = [1, 1.05, 1.05, 1.1025, 1.1025, 1.1025, 1.157625];
    seen.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(t.afterBatch(Number.NaN)).toBe(false);
  });

  it("constant: fixed whatever happens", () => {
    const t = new Temperature({ kind: "constant", value: 3 }, 5);
    expect(t.needsConfidence).toBe(false);
    t.startEpoch(4);
    expect(t.afterBatch(0.99)).toBe(false);
    expect(t.value).toBe(3);
  });

  it("linear: from at epoch 0 to `to` at the last epoch", () => {
    const t = new Temperature({ kind: "linear", from: 1, to: 4 }, 4);
    const values = [0, 1, 2, 3].map((e) => {
      t.startEpoch(e);
      return t.value;
    });
    expect(values).toEqual([1, 2, 3, 4]);
    t.afterBatch(1);
    expect(t.value).toBe(4);
    const one = new Temperature({ kind: "linear", from: 2, to: 5 }, 1);
    one.startEpoch(0);
    expect(one.value).toBe(2);
  });

  it("state round trip", () => {
    const ir = { kind: "adaptive", start: 1, confidence: 0.1, factor: 1.05 } as const;
    const a = new Temperature(ir, 3);
    a.afterBatch(0.5);
    a.afterBatch(0.5);
    const state = JSON.parse(JSON.stringify(a.state()));
    const b = new Temperature(ir, 3);
    b.restore(state);
    expect(b.value).toBeCloseTo(1.1025, 12);
    b.afterBatch(0.5);
    a.afterBatch(0.5);
    expect(b.value).toBe(a.value);
    expect(() => new Temperature({ kind: "constant", value: 1 }, 3).restore(state)).toThrow(/adaptive/);
  });
});
