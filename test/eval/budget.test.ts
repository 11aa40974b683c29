import { describe, expect, it } from "vitest";
import { budget, pickExit } from "../../src/eval/budget.js";
import { fromCorrectness } from "./fixtures.js";

const ones = (k: number, n = 10) => Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));
// val top-1 per exit: 0.5, 0.7, 0.7 (a tie between exits 2 and 3); test: 0.4, 0.6, 0.9.
const val = fromCorrectness([ones(5), ones(7), ones(7)]);
const test = fromCorrectness([ones(4), ones(6), ones(9)]);
const exits = [
  { name: "e1", cumulativeMacs: 100 },
  { name: "e2", cumulativeMacs: 200 },
  { name: "e3", cumulativeMacs: 300 },
];

describe("budget", () => {
  it("picks the best validation exit that fits, cheaper on ties, none below every exit", () => {
    const r = budget(val, test, exits, [50, 100, 250, 300, 1000]);
    expect(r.map((x) => [x.budgetMacs, x.exit, x.top1])).toEqual([
      [50, null, null],
      [100, "e1", 0.4],
      [250, "e2", 0.6],
      [300, "e2", 0.6], // e3 ties e2 on validation (0.7) and costs more
      [1000, "e2", 0.6], // never re-chosen on test, where e3 would be better
    ]);
    expect(r[1].valTop1).toBe(0.5);
    expect(r[2].macs).toBe(200);
  });

  it("defaults to each exit's cost as the budgets", () => {
    expect(budget(val, test, exits).map((x) => [x.budgetMacs, x.exit])).toEqual([
      [100, "e1"],
      [200, "e2"],
      [300, "e2"],
    ]);
  });

  it("ties at equal cost go to the earlier exit", () => {
    const same = exits.map((e) => ({ ...e, cumulativeMacs: 5 }));
    expect(pickExit(same, [0.3, 0.3, 0.3], 5)).toBe(0);
    expect(pickExit(same, [0.3, 0.3, 0.3], 4)).toBeNull();
  });
});
