/** Evaluation of multi-exit networks: anytime, budget and dynamic modes, reports and plots. */
export type * from "./types.js";
export { evaluate, type EvaluateOptions } from "./evaluate.js";
export { anytime } from "./anytime.js";
export { budget, defaultBudgets, pickExit } from "./budget.js";
export {
  DEFAULT_GEOMETRIC_QS,
  DEFAULT_THRESHOLDS,
  accuracyAtBudget,
  applyThresholds,
  dynamic,
  expectedCost,
  findThresholds,
  geometricFractions,
  macsForAccuracy,
  paretoFrontier,
  sharedThresholds,
  splitView,
  type CostAccuracy,
  type SplitView,
  type ThresholdOutcome,
} from "./dynamic.js";
export { argmaxRow, rankOf, runningSums, topKAccuracy } from "./metrics.js";
export { checkExits, checkOutputs } from "./validate.js";
export {
  formatMarkdown,
  formatText,
  toJson,
  toJsonRuns,
  type FormatOptions,
  type ReportJson,
  type ReportSection,
  type RunsJson,
} from "./report.js";
export {
  CURVE_ANYTIME,
  CURVE_ANYTIME_ENSEMBLE,
  CURVE_DYNAMIC,
  X_TITLE,
  Y_TITLE,
  findFontFiles,
  plotPng,
  plotSpec,
  plotSvg,
  svgToPng,
  writePlot,
  type PlotOptions,
  type PlotRun,
} from "./plot.js";
