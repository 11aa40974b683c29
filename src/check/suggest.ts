/** "Did you mean" by edit distance, with a small maximum distance (as prettier and tsc do). */

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  let curr = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    curr[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      curr[j] = Math.min(prev[j]! + 1, curr[j - 1]! + 1, prev[j - 1]! + cost);
      // Transposition ("covn" -> "conv") counts as one edit.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) curr[j] = Math.min(curr[j]!, prev[j - 1]! - cost + 1);
    }
    [prev, curr] = [curr, prev];
  }
  return prev[b.length]!;
}

/** The closest candidate within a distance that scales with the word length, or undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const maxDistance = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const d = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance && d <= maxDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Hint text: "did you mean 'conv'?" or a list of what is accepted. */
export function didYouMean(word: string, candidates: readonly string[], listAll = true): string | undefined {
  const match = closest(word, candidates);
  if (match !== undefined) return `did you mean '${match}'?`;
  if (listAll && candidates.length > 0 && candidates.length <= 16) return `expected one of: ${candidates.join(", ")}`;
  return undefined;
}
