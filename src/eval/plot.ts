/**
 * Accuracy-vs-cost plot of one or more runs: the anytime curve (one point per exit) and the
 * dynamic-exit frontier, one line per run x curve. Built as a Vega-Lite spec, compiled to Vega,
 * rendered headless to SVG; PNG goes through resvg.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { CostAccuracy } from "./dynamic.js";
import type { AnytimeRow, Result } from "./types.js";

export interface PlotRun {
  readonly label: string;
  readonly anytime: readonly AnytimeRow[];
  readonly dynamicFrontier: readonly CostAccuracy[];
}

export interface PlotOptions {
  readonly title?: string;
  /** Plot area size in pixels. */
  readonly width?: number;
  readonly height?: number;
  /** Which anytime accuracy to draw: each exit alone (default) or the running ensemble. */
  readonly anytimeMetric?: "top1" | "ensembleTop1";
  /** PNG width in pixels (the SVG is scaled to it). Default 2x the SVG width. */
  readonly pngWidth?: number;
}

/** Curve names as they appear in the legend. */
export const CURVE_ANYTIME = "anytime (exit alone)";
export const CURVE_ANYTIME_ENSEMBLE = "anytime (ensemble)";
export const CURVE_DYNAMIC = "dynamic frontier";
export const X_TITLE = "MACs per example";
export const Y_TITLE = "top-1 accuracy";

/** Fonts that both vega's layout and resvg's rasteriser should use, in order of preference. */
const FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, sans-serif";

interface Datum {
  run: string;
  curve: string;
  macs: number;
  top1: number;
  /** Draw order along each line. */
  order: number;
}

function plotData(runs: readonly PlotRun[], metric: "top1" | "ensembleTop1"): Datum[] {
  const anytimeCurve = metric === "top1" ? CURVE_ANYTIME : CURVE_ANYTIME_ENSEMBLE;
  return runs.flatMap((r) => [
    ...r.anytime.map((a, i) => ({ run: r.label, curve: anytimeCurve, macs: a.macs, top1: a[metric], order: i })),
    ...r.dynamicFrontier.map((p, i) => ({ run: r.label, curve: CURVE_DYNAMIC, macs: p.expectedMacs, top1: p.top1, order: i })),
  ]);
}

/** The Vega-Lite spec (exported so a caller can write it out or embed it). */
export function plotSpec(runs: readonly PlotRun[], opts: PlotOptions = {}): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: opts.title ?? "Top-1 accuracy vs. cost",
    width: opts.width ?? 560,
    height: opts.height ?? 360,
    background: "white",
    data: { values: plotData(runs, opts.anytimeMetric ?? "top1") },
    mark: { type: "line", point: { filled: true, size: 50 }, strokeWidth: 2 },
    encoding: {
      x: { field: "macs", type: "quantitative", title: X_TITLE, axis: { format: "~s" }, scale: { zero: false } },
      y: { field: "top1", type: "quantitative", title: Y_TITLE, axis: { format: ".0%" }, scale: { zero: false } },
      color: { field: "run", type: "nominal", title: "run" },
      strokeDash: { field: "curve", type: "nominal", title: "curve", legend: {
          symbolType: "stroke",
          symbolSize: 400,
          // The point marks make vega-lite fill legend symbols; a dash pattern needs a stroke instead.
          encoding: { symbols: { stroke: { value: "#444" }, strokeWidth: { value: 2 }, fill: { value: "transparent" } } },
        } },
      order: { field: "order", type: "quantitative" },
      tooltip: [
        { field: "run", type: "nominal" },
        { field: "curve", type: "nominal" },
        { field: "macs", type: "quantitative", format: ",.0f" },
        { field: "top1", type: "quantitative", format: ".2%" },
      ],
    },
    config: { font: FONT_FAMILY, legend: { labelLimit: 400 } },
  };
}

/** Render the plot to an SVG string. */
export async function plotSvg(runs: readonly PlotRun[], opts: PlotOptions = {}): Promise<string> {
  // Errors only: vega-lite warns about the legend encode merge we ask for, and a CLI should not echo that.
  const compiled = compile(plotSpec(runs, opts), { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Font files to hand resvg explicitly: system font discovery is not guaranteed on a slim image,
 * and vega's text has to come out in *some* face. Empty when none are installed (text then
 * does not render in the PNG; the SVG is unaffected).
 */
export function findFontFiles(root = "/usr/share/fonts"): string[] {
  const wanted = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"];
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4 || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      let isDir = false;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue; // dangling link or unreadable: not a font we can use
      }
      if (isDir) walk(p, depth + 1);
      else if (wanted.includes(name)) found.push(p);
    }
  };
  walk(root, 0);
  return found;
}

/** Rasterise an SVG to PNG bytes. */
export function svgToPng(svg: string, width?: number): Buffer {
  const fontFiles = findFontFiles();
  const resvg = new Resvg(svg, {
    fitTo: width ? { mode: "width", value: width } : { mode: "zoom", value: 2 },
    background: "white",
    font: {
      loadSystemFonts: true,
      fontFiles,
      defaultFontFamily: fontFiles.some((f) => f.includes("DejaVu")) ? "DejaVu Sans" : "Liberation Sans",
      sansSerifFamily: "DejaVu Sans",
    },
  });
  return resvg.render().asPng();
}

/** Render the plot to PNG bytes. */
export async function plotPng(runs: readonly PlotRun[], opts: PlotOptions = {}): Promise<Buffer> {
  return svgToPng(await plotSvg(runs, opts), opts.pngWidth);
}

/** Write the plot to `path`: SVG for .svg, PNG for .png; any other extension is an error value. */
export async function writePlot(path: string, runs: readonly PlotRun[], opts: PlotOptions = {}): Promise<Result<string>> {
  const ext = extname(path).toLowerCase();
  if (ext === ".svg") await writeFile(path, await plotSvg(runs, opts), "utf8");
  else if (ext === ".png") await writeFile(path, await plotPng(runs, opts));
  else return { ok: false, error: `cannot write a plot to "${path}": use a .svg or .png file name` };
  return { ok: true, value: path };
}
