import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/eval/evaluate.js";
import { formatMarkdown, formatText, toJson, toJsonRuns } from "../../src/eval/report.js";
import type { EvalReport } from "../../src/eval/types.js";
import { dynTest, dynVal, pathCost, threeExits } from "./fixtures.js";

function run(): EvalReport {
  const r = evaluate(dynVal, dynTest, threeExits, {
    budgets: [5, 20],
    dynamic: { exitCostIfStopAt: pathCost, geometricQs: [0.05, 1, 0.5], thresholds: [0, 0.75, 1.05] },
  });
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe("evaluate", () => {
  it("returns an error value for inconsistent inputs", () => {
    const r = evaluate(dynVal, { ...dynTest, labels: Int32Array.from([0, 1, 2]) }, threeExits);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain("test: exit 0 has 20 probabilities, expected 3 examples x 2 classes = 6");
      expect(r.error).toContain("test: label 2 of example 2 is outside [0, 2)");
    }
    const c = evaluate(dynVal, dynTest, threeExits, { dynamic: { exitCostIfStopAt: [1, 2] } });
    expect(!c.ok && c.error).toBe("exitCostIfStopAt has 2 entries for 3 exits");
  });
});

describe("JSON", () => {
  it("has exactly the agreed keys first, accuracies as fractions", () => {
    const j = toJson(run());
    expect(Object.keys(j).slice(0, 4)).toEqual(["exits", "anytime", "budget", "dynamic"]);
    expect(Object.keys(j.exits[0]).slice(0, 2)).toEqual(["name", "macs"]);
    expect(Object.keys(j.anytime[0]).slice(0, 4)).toEqual(["exit", "top1", "top5", "ensembleTop1"]);
    expect(Object.keys(j.budget[0]).slice(0, 3)).toEqual(["budgetMacs", "exit", "top1"]);
    expect(Object.keys(j.dynamic[0]).slice(0, 4)).toEqual(["thresholds", "expectedMacs", "top1", "exitFractions"]);
    expect(j.exits).toEqual([
      { name: "e1", macs: 10, costIfStopAt: 10 },
      { name: "e2", macs: 20, costIfStopAt: 25 },
      { name: "e3", macs: 35, costIfStopAt: 45 },
    ]);
    // Exit 2 gets examples 0 and 1 right by the first-argmax rule on a 0.5/0.5 tie.
    expect(j.anytime.map((a) => a.top1)).toEqual([0.5, 0.7, 0.9]);
    // Validation top-1: e1 1.0, e2 0.9 -> budget 20 keeps e1.
    expect(j.budget.map((b) => [b.budgetMacs, b.exit, b.top1, b.valTop1])).toEqual([
      [5, null, null, null],
      [20, "e1", 0.5, 1],
    ]);
  });

  it("serialises a closed exit's threshold as null and survives a round trip", () => {
    const j = JSON.parse(JSON.stringify(toJson(run())));
    expect(j.dynamic[0].kind).toBe("geometric");
    expect(j.dynamic[0].thresholds).toEqual([Math.fround(0.55), null, 0]);
    // q = 0.05 on test: 8 answer at exit 1 (>= 0.55), examples 7 and 8 at exit 3 -> (17, 0.6).
    expect(j.dynamic[0].exitFractions).toEqual([0.8, 0, 0.2]);
    expect(j.dynamic[0].expectedMacs).toBeCloseTo(17, 9);
    expect(j.dynamic[0].top1).toBeCloseTo(0.6, 12);
    // Frontier: (10, .5) (17, .6) (27, .7) (29, .8) (45, .9); q = 1 at (30, .7) is dominated.
    const onFrontier = j.dynamic.filter((d: { onFrontier: boolean }) => d.onFrontier);
    expect(onFrontier.map((d: { param: number }) => d.param)).toEqual([0.05, 0.5, 0, 0.75, 1.05]);
  });

  it("several runs go under runs[] with a run label", () => {
    const j = toJsonRuns([
      { label: "distill", report: run() },
      { label: "exitwise", report: run() },
    ]);
    expect(Object.keys(j)).toEqual(["runs"]);
    expect(j.runs.map((r) => r.run)).toEqual(["distill", "exitwise"]);
    expect(Object.keys(j.runs[0]).slice(0, 5)).toEqual(["run", "exits", "anytime", "budget", "dynamic"]);
  });
});

describe("text and Markdown", () => {
  it("text has the three tables with percentages", () => {
    const t = formatText(run());
    expect(t).toContain("Anytime (test)");
    expect(t).toContain("Budget:");
    expect(t).toContain("Pareto frontier");
    expect(t).toMatch(/e3\s*│\s*35\s*│\s*90\.00/);
    expect(t).toContain("heads of exits 1..m");
    expect(formatText(run(), { allDynamic: true })).toContain("off"); // the closed exit
  });

  it("Markdown tables are GitHub tables", () => {
    const md = formatMarkdown(run());
    expect(md).toContain("| exit | MACs | top-1 % | top-5 % | ens top-1 % | ens top-5 % |");
    expect(md).toContain("| e1 | 10 | 50.00 | 100.00 | 50.00 | 100.00 |");
    expect(md).toContain("| 5 | — | — | — | — |"); // budget below every exit
    expect(md).toContain("|---|---:|---:|---:|---:|---:|");
  });

  it("compares runs with one column group per run", () => {
    const runs = [
      { label: "distill", report: run() },
      { label: "exitwise", report: run() },
    ];
    const t = formatText(runs);
    expect(t).toContain("distill");
    expect(t).toContain("exitwise");
    const md = formatMarkdown(runs);
    expect(md).toContain("| exit # | distill: MACs | distill: top-1 % | distill: top-5 % | distill: ens top-1 % | exitwise: MACs |");
    // dynamic frontier read at each exit cost: 10 -> 50 %, 20 -> between (17, .6) and (27, .7),
    // 35 -> between (29, .8) and (45, .9).
    expect(md).toContain("| 10 | 50.00 | 50.00 |");
    expect(md).toContain("| 20 | 63.00 | 63.00 |");
    expect(md).toContain(`| 35 | 83.75 | 83.75 |`);
  });
});
