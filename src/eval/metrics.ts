/**
 * Per-example arithmetic on row-major probability matrices: argmax, top-k membership, ensembles.
 */

/** A row-major [n * classes] matrix of scores (float32 probabilities or float64 sums). */
export type ScoreMatrix = Float32Array | Float64Array;

/** Index of the first maximum of row i (ties -> the lowest class index). */
export function argmaxRow(scores: ScoreMatrix, classes: number, i: number): number {
  const base = i * classes;
  let best = 0;
  let bestValue = scores[base];
  for (let k = 1; k < classes; k++) {
    const v = scores[base + k];
    if (v > bestValue) {
      bestValue = v;
      best = k;
    }
  }
  return best;
}

/** Largest score of row i: the exit's confidence max_k p_k. */
export function maxRow(scores: ScoreMatrix, classes: number, i: number): number {
  const base = i * classes;
  let bestValue = scores[base];
  for (let k = 1; k < classes; k++) if (scores[base + k] > bestValue) bestValue = scores[base + k];
  return bestValue;
}

/**
 * Rank (0-based) of class `label` in row i under the same tie rule as argmaxRow:
 * a class ranks above the label if its score is larger, or equal with a lower index.
 * So rank 0 <=> argmaxRow == label, and top-k correct <=> rank < k.
 */
export function rankOf(scores: ScoreMatrix, classes: number, i: number, label: number): number {
  const base = i * classes;
  const target = scores[base + label];
  let rank = 0;
  for (let k = 0; k < classes; k++) {
    const v = scores[base + k];
    if (v > target || (v === target && k < label)) rank++;
  }
  return rank;
}

/** Fraction of rows whose label is among the top-k classes (k >= classes -> 1). */
export function topKAccuracy(scores: ScoreMatrix, labels: Int32Array, classes: number, k: number): number {
  const n = labels.length;
  if (n === 0) return 0;
  let correct = 0;
  for (let i = 0; i < n; i++) if (rankOf(scores, classes, i, labels[i]) < k) correct++;
  return correct / n;
}

/** Per-example confidences (max probability) of one exit. */
export function confidences(probs: Float32Array, classes: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = maxRow(probs, classes, i);
  return out;
}

/** Per-example predictions (first argmax) of one exit. */
export function predictions(probs: Float32Array, classes: number, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = argmaxRow(probs, classes, i);
  return out;
}

/**
 * Running sums of exits' probabilities in float64, one matrix per exit: sums[m] = sum_{j<=m} probs[j].
 * Argmax and ranks of a sum equal those of the mean (division by m+1 is monotone), so the
 * anytime ensemble needs no division.
 */
export function runningSums(probs: readonly Float32Array[]): Float64Array[] {
  const sums: Float64Array[] = [];
  let acc: Float64Array | null = null;
  for (const p of probs) {
    const next: Float64Array = new Float64Array(p.length);
    for (let j = 0; j < p.length; j++) next[j] = (acc === null ? 0 : acc[j]) + p[j];
    sums.push(next);
    acc = next;
  }
  return sums;
}
