/**
 * `mex eval RUN_DIR... [--mode anytime|budget|dynamic|all] [--split val|test] [--format text|json|md]
 *  [--plot FILE.svg|FILE.png] [--budgets M1,M2,...] [--at-macs N] [--target-acc A]
 *  [--measure [--thresholds t1,t2,...] [--repeats K]] [--data DIR] [--backend auto|node|wasm|cpu]`
 *
 * Validation chooses (budget exits, dynamic thresholds), test reports. `--split` only chooses the
 * split of the anytime table. Exit codes: 0 ok, 1 evaluation failed (e.g. dataset missing),
 * 2 usage (bad options, not a run directory, unfinished run).
 */
import { extname } from "node:path";
import Table from "cli-table3";
import type { Command } from "commander";
import { BackendUnavailableError, initBackend, type BackendChoice } from "../backends/tfjs/backend.js";
import { buildStagedModels } from "../backends/tfjs/stages.js";
import { DataError } from "../data/errors.js";
import { RunError } from "../run/info.js";
import { anytime } from "../eval/anytime.js";
import { collectRun, runLabels, type CollectedRun } from "../eval/collect.js";
import { accuracyAtBudget, macsForAccuracy } from "../eval/dynamic.js";
import { defaultMeasurePoint, executedMacs, measureSpeed, type MeasurePointChoice } from "../eval/driver.js";
import { evaluate } from "../eval/evaluate.js";
import { macs as fmtMacs, pct, shares, theta as fmtTheta } from "../eval/format.js";
import { writePlot, type PlotRun } from "../eval/plot.js";
import { formatMarkdown, formatText, toJson, type ReportJson, type ReportSection } from "../eval/report.js";
import type { DynamicPoint, EvalReport } from "../eval/types.js";
import { choice, EXIT, UsageError, writeLine, type Io } from "./io.js";

export const EVAL_MODES = ["anytime", "budget", "dynamic", "all"] as const;
export const EVAL_SPLITS = ["val", "test"] as const;
export const EVAL_FORMATS = ["text", "json", "md"] as const;
const BACKENDS: readonly BackendChoice[] = ["auto", "node", "wasm", "cpu"];

export type EvalMode = (typeof EVAL_MODES)[number];

export interface EvalOptions {
  readonly mode: EvalMode;
  readonly split: "val" | "test";
  readonly format: "text" | "json" | "md";
  readonly plot?: string;
  readonly budgets?: number[];
  readonly atMacs?: number;
  readonly targetAcc?: number;
  readonly measure: boolean;
  readonly thresholds?: number[];
  readonly repeats: number;
  readonly data?: string;
  readonly backend: BackendChoice;
  readonly allPoints: boolean;
}

export function registerEval(program: Command, io: Io, setCode: (code: number) => void): void {
  program
    .command("eval")
    .description("evaluate trained runs: anytime, budget and dynamic early exit; compare runs; plot; measure real early exit")
    .argument("<runs...>", "run directories written by mex train")
    .option("-m, --mode <mode>", `what to evaluate: ${EVAL_MODES.join(", ")}`, "all")
    .option("--split <split>", `split of the anytime table: ${EVAL_SPLITS.join(", ")} (thresholds and budget exits are always chosen on val)`, "test")
    .option("-f, --format <format>", `output format: ${EVAL_FORMATS.join(", ")}`, "text")
    .option("--plot <file>", "write the accuracy-vs-MACs plot (.svg or .png)")
    .option("--budgets <list>", "MAC budgets for budget mode, comma-separated (suffixes K, M, G allowed); default each exit's MACs")
    .option("--at-macs <n>", "report the dynamic frontier's accuracy at this many MACs per example (interpolated)")
    .option("--target-acc <a>", "report the MACs per example the dynamic frontier needs for this top-1 (0.8 or 80%)")
    .option("--measure", "time the real early-exit driver against the full network on the test split (dynamic mode)", false)
    .option("--thresholds <list>", "thresholds for --measure, one per exit, comma-separated ('off' closes an exit)")
    .option("--repeats <k>", "timed repeats for --measure (the median is reported)", "5")
    .option("--all-points", "list every dynamic point in text/md output, not only the frontier", false)
    .option("--data <dir>", "read IDX data from this directory instead of the spec's")
    .option("-b, --backend <backend>", `tfjs backend: ${BACKENDS.join(", ")}`, "auto")
    .action(async (dirs: string[], raw: Record<string, unknown>) => {
      setCode(await runEval(dirs, parseEvalOptions(raw), io));
    });
}

// ---------------------------------------------------------------- option parsing

/** Raw commander options -> checked options; every problem is a UsageError naming the option. */
export function parseEvalOptions(raw: Record<string, unknown>): EvalOptions {
  const mode = choice("--mode", String(raw.mode ?? "all"), EVAL_MODES);
  const plot = raw.plot === undefined ? undefined : String(raw.plot);
  if (plot !== undefined && ![".svg", ".png"].includes(extname(plot).toLowerCase())) {
    throw new UsageError(`option '--plot' needs a .svg or .png file name; got '${plot}'`);
  }
  const measure = Boolean(raw.measure);
  if (measure && mode !== "dynamic" && mode !== "all") {
    throw new UsageError(`option '--measure' times dynamic early exit: use it with --mode dynamic (or all), not --mode ${mode}`);
  }
  if (raw.thresholds !== undefined && !measure) throw new UsageError("option '--thresholds' only applies with --measure");
  const repeats = Number(raw.repeats ?? 5);
  if (!Number.isInteger(repeats) || repeats < 1) throw new UsageError(`option '--repeats' must be a positive integer; got '${String(raw.repeats)}'`);
  return {
    mode,
    split: choice("--split", String(raw.split ?? "test"), EVAL_SPLITS),
    format: choice("--format", String(raw.format ?? "text"), EVAL_FORMATS),
    ...(plot !== undefined ? { plot } : {}),
    ...(raw.budgets !== undefined ? { budgets: parseList("--budgets", String(raw.budgets), parseMacs) } : {}),
    ...(raw.atMacs !== undefined ? { atMacs: parseMacs("--at-macs", String(raw.atMacs)) } : {}),
    ...(raw.targetAcc !== undefined ? { targetAcc: parseAccuracy("--target-acc", String(raw.targetAcc)) } : {}),
    measure,
    ...(raw.thresholds !== undefined ? { thresholds: parseList("--thresholds", String(raw.thresholds), parseThreshold) } : {}),
    repeats,
    ...(raw.data !== undefined ? { data: String(raw.data) } : {}),
    backend: choice("--backend", String(raw.backend ?? "auto"), BACKENDS),
    allPoints: Boolean(raw.allPoints),
  };
}

function parseList<T>(option: string, text: string, one: (option: string, item: string) => T): T[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw new UsageError(`option '${option}' takes a comma-separated list without empty items; got '${text}'`);
  return items.map((item) => one(option, item));
}

const SI: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** "50000", "50K", "1.2M" -> MACs (non-negative). */
export function parseMacs(option: string, text: string): number {
  const m = /^(\d+(?:\.\d*)?|\.\d+)(?:e(\d+))?\s*([kmgt]?)$/i.exec(text.trim());
  if (!m) throw new UsageError(`option '${option}' takes a MAC count such as 50000, 50K or 1.2M; got '${text}'`);
  return Number(m[1]) * 10 ** Number(m[2] ?? 0) * SI[m[3]!.toLowerCase()]!;
}

/** "0.8" or "80%" -> 0.8; must lie in [0, 1]. */
export function parseAccuracy(option: string, text: string): number {
  const t = text.trim();
  const percent = t.endsWith("%");
  const value = Number(percent ? t.slice(0, -1) : t);
  const acc = percent ? value / 100 : value;
  if (t === "" || !Number.isFinite(value) || acc < 0 || acc > 1) {
    throw new UsageError(`option '${option}' takes an accuracy as a fraction in [0, 1] (0.8) or a percentage (80%); got '${text}'`);
  }
  return acc;
}

/** A threshold in [0, 1], or "off"/"inf" for a closed exit. */
function parseThreshold(option: string, text: string): number {
  if (/^(off|inf|infinity)$/i.test(text)) return Number.POSITIVE_INFINITY;
  const v = Number(text);
  if (!Number.isFinite(v) || v < 0) throw new UsageError(`option '${option}' takes numbers >= 0 (or 'off'); got '${text}'`);
  return v;
}

// ---------------------------------------------------------------- running

/** Everything computed for one run. */
export interface RunEvaluation {
  readonly dir: string;
  readonly label: string;
  readonly report: EvalReport;
  readonly atMacs?: { macs: number; top1: number | null };
  readonly targetAcc?: { top1: number; macs: number | null };
  readonly measure?: MeasureReport;
}

export interface MeasureReport {
  readonly backend: string;
  readonly examples: number;
  /** How the point was chosen. */
  readonly point: "given" | MeasurePointChoice;
  readonly thresholds: (number | null)[];
  readonly exitFractions: number[];
  readonly top1: number;
  readonly driverMs: number;
  readonly fullMs: number;
  /** fullMs / driverMs. */
  readonly wallClockSpeedup: number;
  /** MACs per example: every stage and every head. */
  readonly fullMacs: number;
  /** MACs per example the driver computed (rows actually run through each stage and head). */
  readonly executedMacs: number;
  /** fullMacs / executedMacs. */
  readonly macsSpeedup: number;
  readonly repeats: number;
}

export async function runEval(dirs: readonly string[], opts: EvalOptions, io: Io): Promise<number> {
  let backend;
  try {
    backend = await initBackend(opts.backend);
  } catch (error) {
    if (error instanceof BackendUnavailableError) throw new UsageError(error.message);
    throw error;
  }
  if (opts.format === "text") writeLine(io.stderr, `backend: ${backend.name} (${backend.reason})`);

  const collected: CollectedRun[] = [];
  for (const dir of dirs) {
    try {
      collected.push(await collectRun(dir, opts.data ? { dataDir: opts.data } : {}));
    } catch (error) {
      if (error instanceof RunError) throw new UsageError(error.message, "give a directory written by mex train (it holds run.json and model/)");
      if (error instanceof DataError) {
        writeLine(io.stderr, `mex: ${dir}: ${error.message}`);
        writeLine(io.stderr, "hint: pass --data DIR with the dataset's IDX files (Fashion-MNIST: apt-get install dataset-fashion-mnist)");
        return EXIT.failed;
      }
      throw error;
    }
  }
  const labels = runLabels(collected.map((c) => ({ dir: c.loaded.dir, ir: c.loaded.ir })));
  const evaluations: RunEvaluation[] = [];
  for (const [i, c] of collected.entries()) {
    const result = evaluateRun(c, labels[i]!, opts, backend.name);
    c.loaded.model.dispose();
    if (!result.ok) {
      writeLine(io.stderr, `mex: ${c.loaded.dir}: ${result.error}`);
      return EXIT.failed;
    }
    evaluations.push(result.value);
  }

  writeLine(io.stdout, render(evaluations, opts));
  if (opts.plot) {
    const written = await writePlot(opts.plot, evaluations.map((e) => plotRun(e, opts.mode)), {
      title: evaluations.length > 1 ? "Top-1 accuracy vs. cost: " + evaluations.map((e) => e.label).join(" vs. ") : `Top-1 accuracy vs. cost: ${evaluations[0]!.label}`,
    });
    if (!written.ok) throw new UsageError(written.error);
    writeLine(io.stderr, `plot: ${opts.plot}`);
  }
  return EXIT.ok;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

function evaluateRun(c: CollectedRun, label: string, opts: EvalOptions, backendName: string): Outcome<RunEvaluation> {
  const evaluated = evaluate(c.val, c.test, c.exits, {
    ...(opts.budgets ? { budgets: opts.budgets } : {}),
    dynamic: { exitCostIfStopAt: c.exitCostIfStopAt },
  });
  if (!evaluated.ok) return evaluated;
  const report: EvalReport = opts.split === "val" ? { ...evaluated.value, anytime: anytime(c.val, c.exits) } : evaluated.value;
  const frontier = report.dynamic.frontier;
  let measure: MeasureReport | undefined;
  if (opts.measure) {
    const m = measureRun(c, report, opts, backendName);
    if (!m.ok) return m;
    measure = m.value;
  }
  return {
    ok: true,
    value: {
      dir: c.loaded.dir,
      label,
      report,
      ...(opts.atMacs !== undefined ? { atMacs: { macs: opts.atMacs, top1: accuracyAtBudget(frontier, opts.atMacs) } } : {}),
      ...(opts.targetAcc !== undefined ? { targetAcc: { top1: opts.targetAcc, macs: macsForAccuracy(frontier, opts.targetAcc) } } : {}),
      ...(measure ? { measure } : {}),
    },
  };
}

function measureRun(c: CollectedRun, report: EvalReport, opts: EvalOptions, backendName: string): Outcome<MeasureReport> {
  const { ir, model } = c.loaded;
  let thresholds: readonly number[];
  let how: MeasureReport["point"];
  if (opts.thresholds) {
    if (opts.thresholds.length !== ir.exits.length) {
      return { ok: false, error: `--thresholds has ${opts.thresholds.length} value(s) but the model has ${ir.exits.length} exits (${ir.exits.map((e) => e.name).join(", ")})` };
    }
    thresholds = opts.thresholds;
    how = "given";
  } else {
    const chosen = defaultMeasurePoint(report.dynamic.frontier);
    if (!chosen) return { ok: false, error: "the dynamic frontier is empty: nothing to measure" };
    thresholds = chosen.point.thresholds;
    how = chosen.how;
  }
  const staged = buildStagedModels(ir, model);
  const test = c.dataset.test;
  const speed = measureSpeed(model, staged, { images: test.images, count: test.count }, ir.input, thresholds, { repeats: opts.repeats });
  const counts = new Array<number>(ir.exits.length).fill(0);
  let correct = 0;
  speed.result.exitOf.forEach((m, i) => {
    counts[m]!++;
    if (speed.result.predictions[i] === test.labels[i]) correct++;
  });
  const executed = executedMacs(speed.result, ir.stages.map((s) => s.macs), ir.exits.map((e) => e.macs));
  return {
    ok: true,
    value: {
      backend: backendName,
      examples: test.count,
      point: how,
      thresholds: thresholds.map((t) => (Number.isFinite(t) ? t : null)),
      exitFractions: counts.map((n) => n / Math.max(test.count, 1)),
      top1: correct / Math.max(test.count, 1),
      driverMs: speed.driverMs,
      fullMs: speed.fullMs,
      wallClockSpeedup: speed.speedup,
      fullMacs: c.fullMacs,
      executedMacs: executed,
      macsSpeedup: c.fullMacs / executed,
      repeats: speed.repeats,
    },
  };
}

// ---------------------------------------------------------------- output

function sections(mode: EvalMode): ReportSection[] {
  return mode === "all" ? ["anytime", "budget", "dynamic"] : [mode];
}

/** One run's JSON: the issue's keys (filtered to the mode), then the extras that were asked for. */
export function runJson(e: RunEvaluation, mode: EvalMode): Partial<ReportJson> & Record<string, unknown> {
  const full = toJson(e.report);
  const keep = sections(mode);
  return {
    exits: full.exits,
    ...(keep.includes("anytime") ? { anytime: full.anytime } : {}),
    ...(keep.includes("budget") ? { budget: full.budget } : {}),
    ...(keep.includes("dynamic") ? { dynamic: full.dynamic, dynamicCostModel: full.dynamicCostModel } : {}),
    ...(e.atMacs ? { atMacs: e.atMacs } : {}),
    ...(e.targetAcc ? { targetAcc: e.targetAcc } : {}),
    ...(e.measure ? { measure: e.measure } : {}),
  };
}

export function render(evaluations: readonly RunEvaluation[], opts: EvalOptions): string {
  if (opts.format === "json") {
    const json = evaluations.length === 1 ? runJson(evaluations[0]!, opts.mode) : { runs: evaluations.map((e) => ({ run: e.label, ...runJson(e, opts.mode) })) };
    return JSON.stringify(json, null, 2);
  }
  const fmt = { sections: sections(opts.mode), anytimeSplit: opts.split, allDynamic: opts.allPoints };
  const input = evaluations.length === 1 ? evaluations[0]!.report : evaluations.map((e) => ({ label: e.label, report: e.report }));
  const md = opts.format === "md";
  const parts = [md ? formatMarkdown(input, fmt) : formatText(input, fmt)];
  const extras = extraLines(evaluations, md);
  if (extras.length > 0) parts.push(extras.join("\n"));
  if (evaluations.some((e) => e.measure)) parts.push(measureTable(evaluations, md));
  return parts.map((p) => p.trimEnd()).join("\n\n");
}

function extraLines(evaluations: readonly RunEvaluation[], md: boolean): string[] {
  const lines: string[] = [];
  const bullet = md ? "- " : "";
  for (const e of evaluations) {
    const who = evaluations.length > 1 ? `${e.label}: ` : "";
    if (e.atMacs) {
      lines.push(`${bullet}${who}top-1 at ${fmtMacs(e.atMacs.macs)} MACs per example (dynamic frontier, interpolated): ${e.atMacs.top1 === null ? "unreachable (below the cheapest point)" : `${pct(e.atMacs.top1)}%`}`);
    }
    if (e.targetAcc) {
      lines.push(`${bullet}${who}MACs per example for ${pct(e.targetAcc.top1)}% top-1 (dynamic frontier, interpolated): ${e.targetAcc.macs === null ? "not reached" : fmtMacs(e.targetAcc.macs)}`);
    }
  }
  return lines;
}

function measureTable(evaluations: readonly RunEvaluation[], md: boolean): string {
  const head = ["run", "thresholds", "exit shares %", "top-1 %", "early exit ms", "full ms", "wall-clock speed-up", "MACs speed-up"];
  const rows = evaluations.flatMap((e) => {
    const m = e.measure;
    if (!m) return [];
    return [[
      e.label,
      m.thresholds.map((t) => fmtTheta(t ?? Number.POSITIVE_INFINITY)).join(" "),
      shares(m.exitFractions),
      pct(m.top1),
      m.driverMs.toFixed(1),
      m.fullMs.toFixed(1),
      `${m.wallClockSpeedup.toFixed(2)}x`,
      `${m.macsSpeedup.toFixed(2)}x`,
    ]];
  });
  const first = evaluations.find((e) => e.measure)!.measure!;
  const title = `Measured early exit on the test split (${first.examples} examples, ${first.backend} backend, median of ${first.repeats})`;
  const note = "full = every stage and every exit (model.predict); MACs speed-up = full MACs / MACs the driver computed";
  if (md) {
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [`**${title}**`, "", line(head), `|${head.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`, ...rows.map(line), "", `_${note}_`].join("\n");
  }
  const table = new Table({ head, colAligns: head.map((_, i) => (i < 3 ? "left" : "right")), style: { head: [], border: [] } });
  for (const r of rows) table.push(r);
  return `${title}\n${table.toString()}\n(${note})`;
}

function plotRun(e: RunEvaluation, mode: EvalMode): PlotRun {
  return {
    label: e.label,
    anytime: mode === "dynamic" ? [] : e.report.anytime,
    dynamicFrontier: mode === "anytime" || mode === "budget" ? [] : e.report.dynamic.frontier,
  };
}
