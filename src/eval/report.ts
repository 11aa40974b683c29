/**
 * Reports of an evaluation: the JSON shape (stable, for tools), text tables (cli-table3, for the
 * terminal) and GitHub Markdown tables (for a README). One run, or several compared side by side.
 */
import Table from "cli-table3";
import { accuracyAtBudget } from "./dynamic.js";
import { macs, pct, shares, theta } from "./format.js";
import type { DynamicPoint, EvalReport, LabelledReport } from "./types.js";

// ---------------------------------------------------------------- JSON

export interface ReportJson {
  exits: { name: string; macs: number; costIfStopAt: number }[];
  anytime: {
    exit: string;
    top1: number;
    top5: number;
    ensembleTop1: number;
    ensembleTop5: number;
    exitIndex: number;
    macs: number;
  }[];
  budget: {
    budgetMacs: number;
    exit: string | null;
    top1: number | null;
    exitIndex: number | null;
    valTop1: number | null;
    macs: number | null;
  }[];
  dynamic: {
    /** null = the exit is closed (theta = +Infinity). */
    thresholds: (number | null)[];
    expectedMacs: number;
    top1: number;
    exitFractions: number[];
    kind: "geometric" | "threshold";
    param: number;
    valTop1: number;
    valExitFractions: number[];
    valExpectedMacs: number;
    expectedMacsCumulative: number;
    onFrontier: boolean;
  }[];
  /** "path": expectedMacs used the caller's exitCostIfStopAt; "cumulative": each exit's cumulativeMacs. */
  dynamicCostModel: "path" | "cumulative";
}

export interface RunsJson {
  runs: ({ run: string } & ReportJson)[];
}

/** The JSON object of one run; keys exits, anytime, budget, dynamic first, extras after. */
export function toJson(report: EvalReport): ReportJson {
  const onFrontier = new Set<DynamicPoint>(report.dynamic.frontier);
  return {
    exits: report.exits.map((e, m) => ({
      name: e.name,
      macs: e.cumulativeMacs,
      costIfStopAt: report.dynamic.exitCost[m],
    })),
    anytime: report.anytime.map((r) => ({
      exit: r.exit,
      top1: r.top1,
      top5: r.top5,
      ensembleTop1: r.ensembleTop1,
      ensembleTop5: r.ensembleTop5,
      exitIndex: r.exitIndex,
      macs: r.macs,
    })),
    budget: report.budget.map((r) => ({
      budgetMacs: r.budgetMacs,
      exit: r.exit,
      top1: r.top1,
      exitIndex: r.exitIndex,
      valTop1: r.valTop1,
      macs: r.macs,
    })),
    dynamic: report.dynamic.points.map((p) => ({
      thresholds: p.thresholds.map((t) => (Number.isFinite(t) ? t : null)),
      expectedMacs: p.expectedMacs,
      top1: p.top1,
      exitFractions: [...p.exitFractions],
      kind: p.kind,
      param: p.param,
      valTop1: p.valTop1,
      valExitFractions: [...p.valExitFractions],
      valExpectedMacs: p.valExpectedMacs,
      expectedMacsCumulative: p.expectedMacsCumulative,
      onFrontier: onFrontier.has(p),
    })),
    dynamicCostModel: report.dynamic.costModel,
  };
}

/** Several runs: {"runs": [{"run": label, ...one run's JSON}]}. */
export function toJsonRuns(runs: readonly LabelledReport[]): RunsJson {
  return { runs: runs.map((r) => ({ run: r.label, ...toJson(r.report) })) };
}

// ---------------------------------------------------------------- tables as data

/** A rendered-agnostic table: a title, an optional group header row, a header row, body rows. */
interface TableData {
  title: string;
  /** Column groups above the header: [label, span]. */
  groups?: [string, number][];
  head: string[];
  rows: string[][];
  note?: string;
}

/** The three tables of a report, in print order. */
export type ReportSection = "anytime" | "budget" | "dynamic";
const SECTIONS: readonly ReportSection[] = ["anytime", "budget", "dynamic"];

export interface FormatOptions {
  /** List every dynamic point, not only the frontier. */
  readonly allDynamic?: boolean;
  /** Tables to print (default all three, in the order anytime, budget, dynamic). */
  readonly sections?: readonly ReportSection[];
  /** Split the anytime rows were computed on, for the table title. Default "test". */
  readonly anytimeSplit?: "val" | "test";
}

/** The tables the caller asked for, always in SECTIONS order. */
function pickSections(tables: Record<ReportSection, TableData>, opts: FormatOptions): TableData[] {
  const wanted = opts.sections ?? SECTIONS;
  return SECTIONS.filter((section) => wanted.includes(section)).map((section) => tables[section]);
}

function costNote(report: EvalReport): string {
  return report.dynamic.costModel === "path"
    ? "cost of stopping at exit m = backbone to stage(m) + heads of exits 1..m"
    : "cost of stopping at exit m = that exit's cumulative MACs (no path cost given)";
}

function singleRunTables(report: EvalReport, none: string, opts: FormatOptions): Record<ReportSection, TableData> {
  const anytimeTable: TableData = {
    title: `Anytime (${opts.anytimeSplit ?? "test"}): each exit alone, and the running ensemble of exits 1..m`,
    head: ["exit", "MACs", "top-1 %", "top-5 %", "ens top-1 %", "ens top-5 %"],
    rows: report.anytime.map((r) => [r.exit, macs(r.macs), pct(r.top1), pct(r.top5), pct(r.ensembleTop1), pct(r.ensembleTop5)]),
  };
  const budgetTable: TableData = {
    title: "Budget: the exit with the best validation top-1 within the budget",
    head: ["budget MACs", "exit", "exit MACs", "val top-1 %", "test top-1 %"],
    rows: report.budget.map((r) => [
      macs(r.budgetMacs),
      r.exit ?? none,
      macs(r.macs, none),
      pct(r.valTop1, none),
      pct(r.top1, none),
    ]),
  };
  const points = opts.allDynamic ? report.dynamic.points : report.dynamic.frontier;
  const dynamicTable: TableData = {
    title: `Dynamic early exit, ${opts.allDynamic ? "all points" : "Pareto frontier"} (thresholds chosen on validation)`,
    head: ["sweep", "param", "E[MACs]", "test top-1 %", "val top-1 %", "exit shares %", "thresholds"],
    rows: points.map((p) => [
      p.kind,
      theta(p.param),
      macs(p.expectedMacs),
      pct(p.top1),
      pct(p.valTop1),
      shares(p.exitFractions),
      p.thresholds.map(theta).join(" "),
    ]),
    note: costNote(report),
  };
  return { anytime: anytimeTable, budget: budgetTable, dynamic: dynamicTable };
}

/** MAC budgets at which the compare table reads each run's dynamic frontier: every exit cost of every run. */
function comparisonBudgets(runs: readonly LabelledReport[]): number[] {
  const all = runs.flatMap((r) => r.report.exits.map((e) => e.cumulativeMacs));
  return [...new Set(all)].sort((a, b) => a - b);
}

function compareTables(runs: readonly LabelledReport[], none: string, opts: FormatOptions): Record<ReportSection, TableData> {
  const groups = (span: number): [string, number][] => runs.map((r) => [r.label, span]);
  const exitCount = Math.max(...runs.map((r) => r.report.exits.length));
  const anytimeTable: TableData = {
    title: `Anytime (${opts.anytimeSplit ?? "test"})`,
    groups: [["", 1], ...groups(4)],
    head: ["exit #", ...runs.flatMap(() => ["MACs", "top-1 %", "top-5 %", "ens top-1 %"])],
    rows: Array.from({ length: exitCount }, (_, m) => [
      String(m + 1),
      ...runs.flatMap((r) => {
        const row = r.report.anytime[m];
        return row ? [macs(row.macs), pct(row.top1), pct(row.top5), pct(row.ensembleTop1)] : [none, none, none, none];
      }),
    ]),
  };
  const budgetCount = Math.max(...runs.map((r) => r.report.budget.length));
  const budgetTable: TableData = {
    title: "Budget (exit chosen on validation)",
    groups: [["", 1], ...groups(3)],
    head: ["#", ...runs.flatMap(() => ["budget MACs", "exit", "top-1 %"])],
    rows: Array.from({ length: budgetCount }, (_, i) => [
      String(i + 1),
      ...runs.flatMap((r) => {
        const row = r.report.budget[i];
        return row ? [macs(row.budgetMacs), row.exit ?? none, pct(row.top1, none)] : [none, none, none];
      }),
    ]),
  };
  const dynamicTable: TableData = {
    title: "Dynamic early exit: frontier top-1 % at a MAC budget (linear interpolation)",
    head: ["MACs", ...runs.map((r) => r.label)],
    rows: comparisonBudgets(runs).map((b) => [
      macs(b),
      ...runs.map((r) => pct(accuracyAtBudget(r.report.dynamic.frontier, b), none)),
    ]),
  };
  return { anytime: anytimeTable, budget: budgetTable, dynamic: dynamicTable };
}

// ---------------------------------------------------------------- renderers

/** Numbers (and the placeholder for "none") align right; names and lists left. */
function numericColumns(t: TableData): boolean[] {
  const numeric = /^(-|—|-?\d+(\.\d+)?[KMGT]?)$/;
  return t.head.map((_, col) => t.rows.length > 0 && t.rows.every((r) => numeric.test(r[col] ?? "")));
}

/** cli-table3 without a rule between body rows: tables stay short in a terminal. */
const COMPACT = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };

function renderText(t: TableData): string {
  const colAligns = numericColumns(t).map((n) => (n ? ("right" as const) : ("left" as const)));
  const table = new Table({ head: t.groups ? [] : t.head, colAligns, chars: COMPACT, style: { head: [], border: [] } });
  if (t.groups) {
    table.push(t.groups.map(([content, colSpan]) => ({ content, colSpan, hAlign: "center" as const })));
    table.push(t.head);
  }
  for (const row of t.rows) table.push(row);
  return [t.title, withHeaderRule(table.toString(), t.groups ? 2 : 1), ...(t.note ? [`(${t.note})`] : [])].join("\n");
}

/** COMPACT drops every inner rule; put one back under the header, drawn from the bottom border. */
function withHeaderRule(rendered: string, headerRows: number): string {
  // With column spans, cli-table3 still emits the empty rule's junctions ("┬┬┬"): drop such lines.
  const lines = rendered.split("\n").filter((l) => /^[┌└│]/.test(l));
  const bottom = lines[lines.length - 1];
  const rule = bottom.replace("└", "├").replace("┘", "┤").replace(/┴/g, "┼");
  lines.splice(1 + headerRows, 0, rule);
  return lines.join("\n");
}

function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|");
}

function renderMarkdown(t: TableData): string {
  // GitHub tables have no column spans: prefix each grouped column with its group label.
  let head = t.head;
  if (t.groups) {
    const labels = t.groups.flatMap(([label, span]) => Array<string>(span).fill(label));
    head = t.head.map((h, i) => (labels[i] ? `${labels[i]}: ${h}` : h));
  }
  const align = numericColumns(t).map((n) => (n ? "---:" : "---"));
  const line = (cells: string[]) => `| ${cells.map(mdCell).join(" | ")} |`;
  return [
    `**${t.title}**`,
    "",
    line(head),
    `|${align.join("|")}|`,
    ...t.rows.map(line),
    ...(t.note ? ["", `_${t.note}_`] : []),
  ].join("\n");
}

/** Text tables for the terminal: one run, or several compared (one column group per run). */
export function formatText(input: EvalReport | readonly LabelledReport[], opts: FormatOptions = {}): string {
  const tables = pickSections(isRuns(input) ? compareTables(input, "-", opts) : singleRunTables(input, "-", opts), opts);
  return tables.map(renderText).join("\n\n") + "\n";
}

/** GitHub Markdown tables (paste into a README): one run, or several compared. */
export function formatMarkdown(input: EvalReport | readonly LabelledReport[], opts: FormatOptions = {}): string {
  const tables = pickSections(isRuns(input) ? compareTables(input, "—", opts) : singleRunTables(input, "—", opts), opts);
  return tables.map(renderMarkdown).join("\n\n") + "\n";
}

function isRuns(input: EvalReport | readonly LabelledReport[]): input is readonly LabelledReport[] {
  return Array.isArray(input);
}
