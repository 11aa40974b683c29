/**
 * Anytime mode: evaluate exits in order; the answer after exit m is either that exit alone
 * or the running ensemble (mean of exits 0..m's probabilities).
 */
import { runningSums, topKAccuracy } from "./metrics.js";
import type { AnytimeRow, ExitInfo, ExitOutputs } from "./types.js";

/** Per-exit top-1/top-5 of each exit alone and of the running ensemble. Assumes checkOutputs passed. */
export function anytime(out: ExitOutputs, exits: readonly ExitInfo[]): AnytimeRow[] {
  const { labels, classes } = out;
  const sums = runningSums(out.probs);
  return exits.map((e, m) => ({
    exit: e.name,
    exitIndex: m,
    macs: e.cumulativeMacs,
    top1: topKAccuracy(out.probs[m], labels, classes, 1),
    top5: topKAccuracy(out.probs[m], labels, classes, 5),
    ensembleTop1: topKAccuracy(sums[m], labels, classes, 1),
    ensembleTop5: topKAccuracy(sums[m], labels, classes, 5),
  }));
}
