/**
 * Budget mode (the paper's): for a compute budget, every test example uses the single exit
 * with the best validation top-1 among those whose cumulative MACs fit the budget.
 */
import { topKAccuracy } from "./metrics.js";
import type { BudgetRow, ExitInfo, ExitOutputs } from "./types.js";

/** The budgets used when the caller gives none: each exit's own cost. */
export function defaultBudgets(exits: readonly ExitInfo[]): number[] {
  return exits.map((e) => e.cumulativeMacs);
}

/**
 * Index of the exit to use under `budget`, from per-exit validation top-1, or null if none fits.
 * Ties in validation accuracy go to the cheaper exit (then the earlier one).
 */
export function pickExit(exits: readonly ExitInfo[], valTop1: readonly number[], budget: number): number | null {
  let best = -1;
  for (let m = 0; m < exits.length; m++) {
    if (exits[m].cumulativeMacs > budget) continue;
    const better =
      best < 0 ||
      valTop1[m] > valTop1[best] ||
      (valTop1[m] === valTop1[best] && exits[m].cumulativeMacs < exits[best].cumulativeMacs);
    if (better) best = m;
  }
  return best < 0 ? null : best;
}

/** One row per budget (in the order given). Assumes both splits passed checkOutputs. */
export function budget(
  valOut: ExitOutputs,
  testOut: ExitOutputs,
  exits: readonly ExitInfo[],
  budgets: readonly number[] = defaultBudgets(exits),
): BudgetRow[] {
  const valTop1 = valOut.probs.map((p) => topKAccuracy(p, valOut.labels, valOut.classes, 1));
  const testTop1 = testOut.probs.map((p) => topKAccuracy(p, testOut.labels, testOut.classes, 1));
  return budgets.map((b) => {
    const m = pickExit(exits, valTop1, b);
    if (m === null) return { budgetMacs: b, exit: null, exitIndex: null, top1: null, valTop1: null, macs: null };
    return {
      budgetMacs: b,
      exit: exits[m].name,
      exitIndex: m,
      top1: testTop1[m],
      valTop1: valTop1[m],
      macs: exits[m].cumulativeMacs,
    };
  });
}
