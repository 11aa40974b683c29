/**
 * Where the early-exit graph's thresholds come from: a `--thresholds` list, or an operating point of
 * a `mex eval --format json` report. Errors are values (`Result`), worded for the command line.
 *
 * Threshold semantics (the evaluator's): exit m answers when its max softmax >= theta_m; +Infinity
 * (`inf` or `off` on the command line, null in eval JSON) closes the exit; the last exit always answers
 * (theta = 0).
 */

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(error: string): Result<T> => ({ ok: false, error });

/**
 * Parse `t1,t2,...`: either one value per exit except the last (the last is then 0), or one per
 * exit with the last 0. Values are numbers >= 0, or inf/infinity/off (closed exit, as `mex eval --thresholds`).
 */
export function parseThresholds(text: string, exitNames: readonly string[]): Result<number[]> {
  const n = exitNames.length;
  const parts = text.split(",").map((p) => p.trim());
  const values: number[] = [];
  for (const part of parts) {
    const value = /^(\+?inf|\+?infinity|off)$/i.test(part) ? Number.POSITIVE_INFINITY : part === "" ? Number.NaN : Number(part);
    if (Number.isNaN(value)) return fail(`threshold '${part}' is not a number (use numbers >= 0, or inf/off to close an exit)`);
    if (value < 0) return fail(`threshold ${part} is negative: thresholds are confidences, >= 0 (0 = always answer)`);
    values.push(value);
  }
  const expect = `${n - 1} thresholds (for ${exitNames.slice(0, -1).join(", ")}; the last exit ${exitNames[n - 1]} always answers)`;
  if (values.length === n - 1) return ok([...values, 0]);
  if (values.length === n) {
    if (values[n - 1] !== 0) return fail(`the last exit ${exitNames[n - 1]} always answers: its threshold must be 0 or left out; got ${parts[n - 1]}`);
    return ok(values);
  }
  return fail(`expected ${expect}, got ${values.length}`);
}

/** One dynamic operating point as `mex eval --format json` writes it. */
export interface EvalPoint {
  readonly thresholds: readonly (number | null)[];
  readonly expectedMacs: number;
  readonly top1: number;
  readonly onFrontier?: boolean;
}

export interface ChosenPoint {
  readonly thresholds: number[];
  readonly top1: number;
  readonly expectedMacs: number;
  /** Why this point: for messages and metadata. */
  readonly rule: string;
}

/**
 * Choose an operating point of an eval report (JSON text of one run, or of several runs with exactly one).
 *
 * Rule: with a budget, the point of highest test top-1 among all points with expectedMacs <= budget;
 * without one, the point of highest top-1 on the Pareto frontier (points marked onFrontier; all
 * points when the report has no such marks). Ties go to the lower expectedMacs, then to the earlier
 * point in the file.
 */
export function chooseFromEval(jsonText: string, exitNames: readonly string[], budgetMacs: number | null): Result<ChosenPoint> {
  let report: unknown;
  try {
    report = JSON.parse(jsonText);
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`);
  }
  const run = singleRun(report);
  if (!run.ok) return run;
  const { exits, dynamic } = run.value;
  if (Array.isArray(exits)) {
    const names = exits.map((e) => (e as { name?: unknown }).name);
    if (names.length !== exitNames.length || names.some((name, m) => name !== exitNames[m])) {
      return fail(`the report is for exits [${names.join(", ")}], the model has [${exitNames.join(", ")}] (an evaluation of a different model?)`);
    }
  }
  if (!Array.isArray(dynamic) || dynamic.length === 0) return fail("the report has no dynamic operating points (run mex eval with the dynamic mode)");
  const points: EvalPoint[] = [];
  for (const [i, raw] of dynamic.entries()) {
    const p = raw as Partial<EvalPoint>;
    if (!Array.isArray(p.thresholds) || typeof p.expectedMacs !== "number" || typeof p.top1 !== "number") {
      return fail(`dynamic point ${i} lacks thresholds, expectedMacs or top1`);
    }
    if (p.thresholds.length !== exitNames.length) return fail(`dynamic point ${i} has ${p.thresholds.length} thresholds, the model has ${exitNames.length} exits`);
    points.push(p as EvalPoint);
  }
  let candidates: EvalPoint[];
  let rule: string;
  if (budgetMacs !== null) {
    candidates = points.filter((p) => p.expectedMacs <= budgetMacs);
    rule = `highest top-1 with expected MACs <= ${budgetMacs}`;
    if (candidates.length === 0) {
      const cheapest = Math.min(...points.map((p) => p.expectedMacs));
      return fail(`no operating point fits the budget of ${budgetMacs} MACs (the cheapest needs ${cheapest})`);
    }
  } else {
    const marked = points.some((p) => p.onFrontier !== undefined);
    candidates = marked ? points.filter((p) => p.onFrontier === true) : points;
    rule = "highest top-1 on the frontier";
    if (candidates.length === 0) candidates = points;
  }
  const best = candidates.reduce((a, b) => (b.top1 > a.top1 || (b.top1 === a.top1 && b.expectedMacs < a.expectedMacs) ? b : a));
  const thresholds = best.thresholds.map((t) => (t === null ? Number.POSITIVE_INFINITY : t));
  const last = thresholds[thresholds.length - 1];
  if (last !== 0) return fail(`the chosen point's last threshold is ${last}; the last exit must always answer (0)`);
  if (thresholds.some((t) => Number.isNaN(t) || t < 0)) return fail(`the chosen point has an invalid threshold: [${best.thresholds.join(", ")}]`);
  return ok({ thresholds, top1: best.top1, expectedMacs: best.expectedMacs, rule });
}

function singleRun(report: unknown): Result<{ exits?: unknown; dynamic?: unknown }> {
  if (typeof report !== "object" || report === null) return fail("expected a JSON object from mex eval --format json");
  const runs = (report as { runs?: unknown }).runs;
  if (Array.isArray(runs)) {
    if (runs.length !== 1) return fail(`the report compares ${runs.length} runs; pass the report of a single run`);
    return ok(runs[0] as { exits?: unknown; dynamic?: unknown });
  }
  return ok(report as { exits?: unknown; dynamic?: unknown });
}

/** Parse a MAC budget: a plain number, or with a k/M/G suffix (1e3, 1e6, 1e9). */
export function parseMacs(text: string): Result<number> {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kKmMgG]?)\s*$/.exec(text);
  if (!m) return fail(`'${text}' is not a MAC count (e.g. 2500000, 2.5M, 800k)`);
  const scale = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  const value = Number(m[1]) * scale;
  if (!(value > 0)) return fail(`the budget must be > 0 MACs, got '${text}'`);
  return ok(value);
}
