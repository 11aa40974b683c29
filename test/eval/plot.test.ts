import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/eval/evaluate.js";
import { CURVE_ANYTIME, CURVE_DYNAMIC, X_TITLE, Y_TITLE, plotSvg, writePlot } from "../../src/eval/plot.js";
import type { PlotRun } from "../../src/eval/plot.js";
import { dynTest, dynVal, pathCost, threeExits } from "./fixtures.js";

function runs(): PlotRun[] {
  const r = evaluate(dynVal, dynTest, threeExits, { dynamic: { exitCostIfStopAt: pathCost } });
  if (!r.ok) throw new Error(r.error);
  const distill = { label: "distill", anytime: r.value.anytime, dynamicFrontier: r.value.dynamic.frontier };
  // A second, worse run so the plot has two colours.
  const worse: PlotRun = {
    label: "exit-wise",
    anytime: r.value.anytime.map((a) => ({ ...a, top1: a.top1 - 0.1 })),
    dynamicFrontier: r.value.dynamic.frontier.map((p) => ({ expectedMacs: p.expectedMacs, top1: p.top1 - 0.08 })),
  };
  return [distill, worse];
}

// Kept (not deleted) so a person can look at the rendering.
const outDir = join(tmpdir(), "mex-eval-plot");

describe("plot", () => {
  it("SVG has axis titles, legend labels and a title", async () => {
    const svg = await plotSvg(runs(), { title: "fixture runs" });
    expect(svg.startsWith("<svg")).toBe(true);
    for (const text of [X_TITLE, Y_TITLE, "distill", "exit-wise", CURVE_ANYTIME, CURVE_DYNAMIC, "fixture runs"]) {
      expect(svg).toContain(text);
    }
  });

  it("writes SVG and PNG by extension, refuses others", async () => {
    mkdirSync(outDir, { recursive: true });
    const png = join(outDir, "sample.png");
    expect(await writePlot(png, runs(), { title: "fixture runs" })).toEqual({ ok: true, value: png });
    const bytes = readFileSync(png);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.length).toBeGreaterThan(20_000);
    const svg = join(outDir, "sample.svg");
    expect((await writePlot(svg, runs())).ok).toBe(true);
    expect(readFileSync(svg, "utf8")).toContain(X_TITLE);
    const bad = await writePlot(join(outDir, "sample.pdf"), runs());
    expect(bad).toEqual({ ok: false, error: `cannot write a plot to "${join(outDir, "sample.pdf")}": use a .svg or .png file name` });
  });
});
