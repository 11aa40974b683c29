/** Hand-made exit outputs for the evaluation tests. */
import type { ExitInfo, ExitOutputs } from "../../src/eval/types.js";

/** Rows of probabilities -> one exit's row-major Float32Array. */
export function rows(r: number[][]): Float32Array {
  return Float32Array.from(r.flat());
}

/**
 * Two-class outputs from confidences and correctness: example i at exit m puts confidence
 * conf[m][i] on the label if correct[m][i], else on the other class. All labels are 0.
 */
export function binaryOutputs(conf: number[][], correct: number[][]): ExitOutputs {
  const n = conf[0].length;
  const probs = conf.map((cs, m) =>
    rows(cs.map((c, i) => (correct[m][i] ? [c, 1 - c] : [1 - c, c]))),
  );
  return { probs, labels: new Int32Array(n), classes: 2 };
}

/** Outputs where exit m predicts the label for exactly the examples in correct[m] (3 classes, label 0). */
export function fromCorrectness(correct: number[][]): ExitOutputs {
  const n = correct[0].length;
  const probs = correct.map((cs) => rows(cs.map((c) => (c ? [0.8, 0.1, 0.1] : [0.1, 0.8, 0.1]))));
  return { probs, labels: new Int32Array(n), classes: 3 };
}

export const threeExits: ExitInfo[] = [
  { name: "e1", cumulativeMacs: 10 },
  { name: "e2", cumulativeMacs: 20 },
  { name: "e3", cumulativeMacs: 35 },
];
/** Stopping at m also paid for earlier heads: more than cumulativeMacs after exit 1. */
export const pathCost = [10, 25, 45];

/**
 * Validation split for the dynamic tests (10 examples, 3 exits).
 * Exit-1 confidences fall with i, exit-2 confidences rise with i, so "among the remaining"
 * matters when thresholds are chosen.
 */
export const dynVal = binaryOutputs(
  [
    [0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.52],
    [0.6, 0.62, 0.64, 0.66, 0.68, 0.7, 0.72, 0.74, 0.76, 0.78],
    Array(10).fill(0.9),
  ],
  [
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 0, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  ],
);

export const dynTest = binaryOutputs(
  [
    [0.97, 0.86, 0.84, 0.76, 0.74, 0.6, 0.55, 0.51, 0.53, 0.58],
    [0.5, 0.5, 0.8, 0.74, 0.73, 0.6, 0.75, 0.55, 0.9, 0.65],
    Array(10).fill(0.9),
  ],
  [
    [1, 0, 1, 1, 0, 0, 1, 0, 0, 1],
    [0, 1, 1, 1, 1, 0, 0, 1, 1, 0],
    [1, 1, 1, 1, 1, 1, 1, 0, 1, 1],
  ],
);
