/**
 * Data shapes shared by the evaluation modes (anytime, budget, dynamic) and the reports.
 *
 * Everything here is plain data over typed arrays; no tfjs. Accuracies are fractions in [0, 1].
 * Exits are always in exit order (index 0 = the cheapest exit).
 */

/** Softmax outputs of every exit on one split. */
export interface ExitOutputs {
  /** probs[m] is exit m's [n * classes] softmax probabilities, row-major. */
  readonly probs: readonly Float32Array[];
  /** [n] gold labels in [0, classes). */
  readonly labels: Int32Array;
  readonly classes: number;
}

/** What the evaluator needs to know about an exit. */
export interface ExitInfo {
  readonly name: string;
  /** Backbone up to the exit's stage + its own head (ExitIR.cumulativeMacs). */
  readonly cumulativeMacs: number;
}

/** One row of the anytime table. */
export interface AnytimeRow {
  /** Exit name. */
  readonly exit: string;
  readonly exitIndex: number;
  /** Cumulative MACs of this exit alone (backbone to its stage + its head). */
  readonly macs: number;
  /** The exit alone. */
  readonly top1: number;
  readonly top5: number;
  /** Running ensemble: mean of the probabilities of exits 0..m. */
  readonly ensembleTop1: number;
  readonly ensembleTop5: number;
}

/** One row of the budget table (the paper's mode). */
export interface BudgetRow {
  readonly budgetMacs: number;
  /** Name of the chosen exit, or null when no exit fits the budget. */
  readonly exit: string | null;
  readonly exitIndex: number | null;
  /** Test top-1 of the chosen exit, null when none fits. */
  readonly top1: number | null;
  /** Validation top-1 that made the choice. */
  readonly valTop1: number | null;
  /** The chosen exit's cumulative MACs. */
  readonly macs: number | null;
}

/** How a dynamic point's thresholds were chosen. */
export type DynamicKind = "geometric" | "threshold";

/** One operating point of dynamic (per-example) early exit. */
export interface DynamicPoint {
  readonly kind: DynamicKind;
  /** The sweep parameter: q of the geometric distribution, or the shared threshold. */
  readonly param: number;
  /**
   * theta_m per exit: exit m answers when its max probability >= theta_m.
   * +Infinity = nobody answers at this exit (serialised as null in JSON). The last exit is 0 (everyone).
   */
  readonly thresholds: readonly number[];
  /** Test top-1 with these thresholds. */
  readonly top1: number;
  /** sum_m fracTest_m * exitCostIfStopAt[m]: the real cost of an early-exit run. */
  readonly expectedMacs: number;
  /** sum_m fracTest_m * cumulativeMacs[m]: the cost if each exit's own path ran alone. */
  readonly expectedMacsCumulative: number;
  /** Fraction of test examples answering at each exit. */
  readonly exitFractions: readonly number[];
  readonly valTop1: number;
  readonly valExitFractions: readonly number[];
  readonly valExpectedMacs: number;
}

export interface DynamicOptions {
  /**
   * Cost of an example that stops at exit m: backbone up to stage(m) + heads of exits 0..m
   * (an early-exit run evaluates every earlier head). Computed by the caller from the IR.
   * When absent, cumulativeMacs is used (and the report says so via `costModel`).
   */
  readonly exitCostIfStopAt?: readonly number[];
  /** q values of the geometric sweep. Default: MSDNet's code, k/20 for k = 1..39. */
  readonly geometricQs?: readonly number[];
  /** Shared thresholds of the plain sweep. Default 0, 0.05, ..., 1.0. */
  readonly thresholds?: readonly number[];
}

export interface DynamicResult {
  readonly points: readonly DynamicPoint[];
  /** Pareto-optimal points over all of `points`, by expectedMacs (test accuracy). */
  readonly frontier: readonly DynamicPoint[];
  /** "path" = caller's exitCostIfStopAt; "cumulative" = fell back to cumulativeMacs. */
  readonly costModel: "path" | "cumulative";
  /** The per-exit cost vector that expectedMacs used. */
  readonly exitCost: readonly number[];
}

/** Everything evaluated for one trained model. */
export interface EvalReport {
  readonly exits: readonly ExitInfo[];
  readonly anytime: readonly AnytimeRow[];
  readonly budget: readonly BudgetRow[];
  readonly dynamic: DynamicResult;
}

/** A labelled report, for comparisons across runs. */
export interface LabelledReport {
  readonly label: string;
  readonly report: EvalReport;
}

/** Errors are values: a check either passes or says what is wrong. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };
