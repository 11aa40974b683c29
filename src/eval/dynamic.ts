/**
 * Dynamic (per-example) early exit, MSDNet's "budgeted batch classification":
 * exit m answers when max_k p_m(x)_k >= theta_m; the last exit always answers.
 *
 * Thresholds are chosen on the validation split and reused unchanged on the test split.
 * Two sweeps:
 * - geometric (MSDNet's `dynamic_evaluate`): the share of examples leaving at exit m is
 *   proportional to q^m (m = 1..M). For exit m < M, theta_m is the confidence of the
 *   floor(n * share_m)-th most confident example among those still remaining, so that many
 *   *of all n* validation examples leave there (ties can add more). A share that rounds to 0
 *   examples closes the exit (theta = +Infinity).
 * - threshold: one shared theta for exits 1..M-1.
 */
import { confidences, predictions } from "./metrics.js";
import type {
  DynamicKind,
  DynamicOptions,
  DynamicPoint,
  DynamicResult,
  ExitInfo,
  ExitOutputs,
} from "./types.js";

/** MSDNet's code sweeps q = k/20 for k in range(1, 40), i.e. k = 1..39. */
export const DEFAULT_GEOMETRIC_QS: readonly number[] = Array.from({ length: 39 }, (_, i) => (i + 1) / 20);
/** 0, 0.05, ..., 1.0 (built from integers so the values are exact decimals). */
export const DEFAULT_THRESHOLDS: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

/** Target exit shares for M exits: exp(log(q) * m) for m = 1..M, normalised to sum to 1. */
export function geometricFractions(q: number, exitCount: number): number[] {
  const raw = Array.from({ length: exitCount }, (_, i) => Math.exp(Math.log(q) * (i + 1)));
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => r / total);
}

/** Per-exit confidences and predictions of one split, computed once and reused by every point. */
export interface SplitView {
  readonly n: number;
  readonly labels: Int32Array;
  /** conf[m][i] = max_k p_m(x_i)_k. */
  readonly conf: readonly Float64Array[];
  readonly pred: readonly Int32Array[];
}

export function splitView(out: ExitOutputs): SplitView {
  const n = out.labels.length;
  return {
    n,
    labels: out.labels,
    conf: out.probs.map((p) => confidences(p, out.classes, n)),
    pred: out.probs.map((p) => predictions(p, out.classes, n)),
  };
}

/**
 * MSDNet's threshold search on one split for target shares `fractions` (one per exit).
 * Returns theta per exit; the last is 0 (everyone answers there).
 */
export function findThresholds(view: SplitView, fractions: readonly number[]): number[] {
  const exitCount = view.conf.length;
  const { n } = view;
  const exited = new Uint8Array(n);
  const thetas: number[] = new Array<number>(exitCount).fill(Number.POSITIVE_INFINITY);
  for (let m = 0; m < exitCount - 1; m++) {
    const conf = view.conf[m];
    // The small epsilon keeps float noise (e.g. 2.9999999) from dropping an example.
    const wanted = Math.floor(n * fractions[m] + 1e-9);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => conf[b] - conf[a]);
    let count = 0;
    for (const i of order) {
      if (exited[i]) continue;
      count++;
      if (count === wanted) {
        thetas[m] = conf[i];
        break;
      }
    }
    for (let i = 0; i < n; i++) if (conf[i] >= thetas[m]) exited[i] = 1;
  }
  thetas[exitCount - 1] = 0;
  return thetas;
}

/** Outcome of running a split with fixed thresholds. */
export interface ThresholdOutcome {
  readonly top1: number;
  /** Fraction of examples answering at each exit. */
  readonly fractions: number[];
  /** exitOf[i] = the exit example i answered at. */
  readonly exitOf: Int32Array;
}

/** Each example answers at the first exit whose confidence reaches its threshold (the last always answers). */
export function applyThresholds(view: SplitView, thetas: readonly number[]): ThresholdOutcome {
  const exitCount = view.conf.length;
  const counts = new Array<number>(exitCount).fill(0);
  const exitOf = new Int32Array(view.n);
  let correct = 0;
  for (let i = 0; i < view.n; i++) {
    let m = 0;
    while (m < exitCount - 1 && !(view.conf[m][i] >= thetas[m])) m++;
    exitOf[i] = m;
    counts[m]++;
    if (view.pred[m][i] === view.labels[i]) correct++;
  }
  const n = Math.max(view.n, 1);
  return { top1: correct / n, fractions: counts.map((c) => c / n), exitOf };
}

/** sum_m fractions[m] * cost[m]. */
export function expectedCost(fractions: readonly number[], cost: readonly number[]): number {
  return fractions.reduce((acc, f, m) => acc + f * cost[m], 0);
}

/** Evaluate one threshold vector on val and test and package it as a point. */
export function dynamicPoint(
  kind: DynamicKind,
  param: number,
  thetas: readonly number[],
  val: SplitView,
  test: SplitView,
  exitCost: readonly number[],
  cumulative: readonly number[],
): DynamicPoint {
  const v = applyThresholds(val, thetas);
  const t = applyThresholds(test, thetas);
  return {
    kind,
    param,
    thresholds: [...thetas],
    top1: t.top1,
    expectedMacs: expectedCost(t.fractions, exitCost),
    expectedMacsCumulative: expectedCost(t.fractions, cumulative),
    exitFractions: t.fractions,
    valTop1: v.top1,
    valExitFractions: v.fractions,
    valExpectedMacs: expectedCost(v.fractions, exitCost),
  };
}

/** Shared threshold for every exit but the last. */
export function sharedThresholds(theta: number, exitCount: number): number[] {
  return Array.from({ length: exitCount }, (_, m) => (m === exitCount - 1 ? 0 : theta));
}

/** Both sweeps, their points (geometric first, then threshold) and the frontier. Assumes checked inputs. */
export function dynamic(
  valOut: ExitOutputs,
  testOut: ExitOutputs,
  exits: readonly ExitInfo[],
  opts: DynamicOptions = {},
): DynamicResult {
  const cumulative = exits.map((e) => e.cumulativeMacs);
  const exitCost = opts.exitCostIfStopAt ? [...opts.exitCostIfStopAt] : cumulative;
  const val = splitView(valOut);
  const test = splitView(testOut);
  const points: DynamicPoint[] = [];
  for (const q of opts.geometricQs ?? DEFAULT_GEOMETRIC_QS) {
    const thetas = findThresholds(val, geometricFractions(q, exits.length));
    points.push(dynamicPoint("geometric", q, thetas, val, test, exitCost, cumulative));
  }
  for (const theta of opts.thresholds ?? DEFAULT_THRESHOLDS) {
    points.push(dynamicPoint("threshold", theta, sharedThresholds(theta, exits.length), val, test, exitCost, cumulative));
  }
  return {
    points,
    frontier: paretoFrontier(points),
    costModel: opts.exitCostIfStopAt ? "path" : "cumulative",
    exitCost,
  };
}

/** Anything with a cost and an accuracy. */
export interface CostAccuracy {
  readonly expectedMacs: number;
  readonly top1: number;
}

/**
 * Pareto-optimal points: sorted by cost, keep a point only if its accuracy is strictly above
 * every cheaper point's. The result is strictly increasing in both cost and accuracy.
 */
export function paretoFrontier<P extends CostAccuracy>(points: readonly P[]): P[] {
  const sorted = [...points].sort((a, b) => a.expectedMacs - b.expectedMacs || b.top1 - a.top1);
  const frontier: P[] = [];
  for (const p of sorted) {
    if (frontier.length === 0 || p.top1 > frontier[frontier.length - 1].top1) frontier.push(p);
  }
  return frontier;
}

/**
 * Accuracy reachable with `macs` per example, interpolating linearly between frontier points.
 * Null below the cheapest point; above the most expensive, that point's accuracy.
 */
export function accuracyAtBudget(frontier: readonly CostAccuracy[], macs: number): number | null {
  if (frontier.length === 0 || macs < frontier[0].expectedMacs) return null;
  const last = frontier[frontier.length - 1];
  if (macs >= last.expectedMacs) return last.top1;
  for (let i = 0; i + 1 < frontier.length; i++) {
    const a = frontier[i];
    const b = frontier[i + 1];
    if (macs <= b.expectedMacs) {
      const t = (macs - a.expectedMacs) / (b.expectedMacs - a.expectedMacs);
      return a.top1 + t * (b.top1 - a.top1);
    }
  }
  return last.top1;
}

/**
 * Cheapest MACs per example that reach accuracy `acc` on the interpolated frontier.
 * At or below the cheapest point's accuracy, that point's cost; null if the frontier never reaches it.
 */
export function macsForAccuracy(frontier: readonly CostAccuracy[], acc: number): number | null {
  if (frontier.length === 0) return null;
  if (acc <= frontier[0].top1) return frontier[0].expectedMacs;
  for (let i = 0; i + 1 < frontier.length; i++) {
    const a = frontier[i];
    const b = frontier[i + 1];
    if (acc <= b.top1) {
      const t = (acc - a.top1) / (b.top1 - a.top1);
      return a.expectedMacs + t * (b.expectedMacs - a.expectedMacs);
    }
  }
  return null;
}
