/**
 * The entry point: check the inputs once, then run anytime (on test), budget and dynamic modes.
 */
import { anytime } from "./anytime.js";
import { budget, defaultBudgets } from "./budget.js";
import { dynamic } from "./dynamic.js";
import { checkExits, checkOutputs } from "./validate.js";
import type { DynamicOptions, EvalReport, ExitInfo, ExitOutputs, Result } from "./types.js";

export interface EvaluateOptions {
  /** Budgets (MACs per example) for budget mode; default each exit's cumulative MACs. */
  readonly budgets?: readonly number[];
  readonly dynamic?: DynamicOptions;
}

/** Every mode for one model. Validation chooses (budget exits, dynamic thresholds); test reports. */
export function evaluate(
  valOut: ExitOutputs,
  testOut: ExitOutputs,
  exits: readonly ExitInfo[],
  opts: EvaluateOptions = {},
): Result<EvalReport> {
  const problems = [
    ...checkExits(exits, opts.dynamic?.exitCostIfStopAt),
    ...checkOutputs(valOut, exits, "validation"),
    ...checkOutputs(testOut, exits, "test"),
  ];
  if (valOut.classes !== testOut.classes)
    problems.push(`validation has ${valOut.classes} classes but test has ${testOut.classes}`);
  if (problems.length > 0) return { ok: false, error: problems.join("\n") };
  return {
    ok: true,
    value: {
      exits: exits.map((e) => ({ name: e.name, cumulativeMacs: e.cumulativeMacs })),
      anytime: anytime(testOut, exits),
      budget: budget(valOut, testOut, exits, opts.budgets ?? defaultBudgets(exits)),
      dynamic: dynamic(valOut, testOut, exits, opts.dynamic),
    },
  };
}
