/**
 * Real early exit in tfjs: the backbone runs stage by stage; after a stage with exits, each exit's
 * head scores the rows still in the batch, rows whose max probability reaches the exit's threshold
 * answer there, and only the survivors (gathered with tf.gather) go on to the next stage. The last
 * exit answers everyone left. Compute shrinks with the batch, unlike a simulation that runs every
 * exit on every example.
 *
 * Decisions use the same numbers as the simulated evaluation (float32 softmax, `conf >= theta`, first
 * argmax on ties), so the driver's predictions equal `applyThresholds` on `predictProbs` outputs.
 */
import * as tf from "@tensorflow/tfjs";
import type { StagedModels } from "../backends/tfjs/stages.js";
import { predictProbs, type ImageSet } from "../backends/tfjs/predict.js";
import type { DynamicPoint } from "./types.js";

export interface EarlyExitResult {
  /** predictions[i] = class answered for example i. */
  readonly predictions: Int32Array;
  /** exitOf[i] = index of the exit that answered example i. */
  readonly exitOf: Int32Array;
  /** confidence[i] = max probability at the answering exit. */
  readonly confidence: Float32Array;
  /** Calls of each stage model (one per batch that still had rows when it got there). */
  readonly stageCalls: number[];
  /** Rows each stage computed, summed over batches. */
  readonly stageRows: number[];
  /** Rows each head scored, summed over batches. */
  readonly headRows: number[];
}

export interface EarlyExitOptions {
  /** Examples fed to stage 1 at once. Default 256. */
  readonly batchSize?: number;
}

/** Checks thresholds against the staged model: one per exit. */
export function checkThresholds(staged: StagedModels, thresholds: readonly number[]): string | null {
  if (thresholds.length !== staged.heads.length) {
    return `${thresholds.length} threshold(s) given for ${staged.heads.length} exits (${staged.heads.map((h) => h.name).join(", ")})`;
  }
  const bad = thresholds.find((t) => Number.isNaN(t));
  return bad === undefined ? null : "a threshold is not a number";
}

/**
 * Run `data` through `staged` with per-exit `thresholds` (+Infinity = exit closed; the last exit's
 * threshold is ignored: it answers every remaining row). Throws on a threshold count mismatch.
 */
export function earlyExit(
  staged: StagedModels,
  data: ImageSet,
  shape: readonly number[],
  thresholds: readonly number[],
  opts: EarlyExitOptions = {},
): EarlyExitResult {
  const problem = checkThresholds(staged, thresholds);
  if (problem) throw new Error(problem);
  const batchSize = opts.batchSize ?? 256;
  const result = {
    predictions: new Int32Array(data.count),
    exitOf: new Int32Array(data.count),
    confidence: new Float32Array(data.count),
    stageCalls: new Array<number>(staged.stages.length).fill(0),
    stageRows: new Array<number>(staged.stages.length).fill(0),
    headRows: new Array<number>(staged.heads.length).fill(0),
  };
  const pixels = shape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const x = tf.tensor(data.images.subarray(start * pixels, (start + n) * pixels), [n, ...shape]);
    runBatch(staged, x, start, thresholds, result);
  }
  return result;
}

/** Heads grouped by the stage they read, in exit order. */
function headsByStage(staged: StagedModels): StagedModels["heads"][number][][] {
  const groups = staged.stages.map(() => [] as StagedModels["heads"][number][]);
  for (const head of staged.heads) groups[head.stageIndex]!.push(head);
  return groups;
}

/** One batch: `x` is consumed (disposed). Rows are identified by their index in the whole split. */
function runBatch(staged: StagedModels, x: tf.Tensor, offset: number, thresholds: readonly number[], out: EarlyExitResult): void {
  const lastExit = staged.heads.length - 1;
  const groups = headsByStage(staged);
  // rows[j] = split index of row j of the current features.
  let rows = Int32Array.from({ length: x.shape[0]! }, (_, j) => offset + j);
  let h = x;
  for (let s = 0; s < staged.stages.length && rows.length > 0; s++) {
    // Past the last exit nothing can answer: the stages after it would be wasted work.
    if (groups.slice(s).every((g) => g.length === 0)) break;
    const next = staged.stages[s]!.model.predict(h, { batchSize: rows.length }) as tf.Tensor;
    h.dispose();
    h = next;
    out.stageCalls[s]!++;
    out.stageRows[s]! += rows.length;
    for (const head of groups[s]!) {
      if (rows.length === 0) break;
      const theta = head.index === lastExit ? Number.NEGATIVE_INFINITY : thresholds[head.index]!;
      // A closed exit (theta = +Infinity) cannot take anyone: skip its head entirely.
      if (theta === Number.POSITIVE_INFINITY) continue;
      const { conf, pred } = scoreHead(head.model, h);
      out.headRows[head.index]! += rows.length;
      const keep: number[] = [];
      for (let j = 0; j < rows.length; j++) {
        if (conf[j]! >= theta) {
          const i = rows[j]!;
          out.predictions[i] = pred[j]!;
          out.exitOf[i] = head.index;
          out.confidence[i] = conf[j]!;
        } else keep.push(j);
      }
      if (keep.length < rows.length) {
        rows = Int32Array.from(keep, (j) => rows[j]!);
        const survivors = keep.length > 0 ? gatherRows(h, keep) : null;
        h.dispose();
        if (!survivors) return;
        h = survivors;
      }
    }
  }
  h.dispose();
}

/**
 * Rows `keep` of `h`, in order. tf.gather on the wasm backend is slow for wide rows (a 128-of-256
 * gather of 14x14x32 features took 40 ms vs 8 ms for a download, row copies and upload), so the CPU
 * backends copy rows in JS; other backends (tfjs-node, webgl) use tf.gather.
 */
export function gatherRows(h: tf.Tensor, keep: readonly number[]): tf.Tensor {
  const backend = tf.getBackend();
  if (backend !== "wasm" && backend !== "cpu") return tf.tidy(() => tf.gather(h, tf.tensor1d([...keep], "int32")));
  const row = h.size / h.shape[0]!;
  const src = h.dataSync() as Float32Array;
  const out = new Float32Array(keep.length * row);
  keep.forEach((j, k) => out.set(src.subarray(j * row, (j + 1) * row), k * row));
  return tf.tensor(out, [keep.length, ...h.shape.slice(1)], "float32");
}

/** Max probability and first argmax per row, from the head's float32 softmax (as predictProbs does). */
function scoreHead(head: tf.LayersModel, features: tf.Tensor): { conf: Float32Array; pred: Int32Array } {
  const probs = tf.tidy(() => tf.softmax(head.predict(features, { batchSize: features.shape[0]! }) as tf.Tensor));
  const [n, classes] = probs.shape as [number, number];
  const p = probs.dataSync() as Float32Array;
  probs.dispose();
  const conf = new Float32Array(n);
  const pred = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (p[j * classes + k]! > p[j * classes + best]!) best = k;
    pred[j] = best;
    conf[j] = p[j * classes + best]!;
  }
  return { conf, pred };
}

// ---------------------------------------------------------------- timing

export interface SpeedMeasurement {
  /** Median wall-clock milliseconds of the early-exit driver over the split. */
  readonly driverMs: number;
  /** Median wall-clock milliseconds of the full network (every exit, model.predict). */
  readonly fullMs: number;
  /** fullMs / driverMs: > 1 means early exit is faster. */
  readonly speedup: number;
  readonly repeats: number;
  readonly driverRuns: readonly number[];
  readonly fullRuns: readonly number[];
  /** The driver's result of the last repeat (every repeat is identical). */
  readonly result: EarlyExitResult;
}

export interface MeasureOptions {
  readonly repeats?: number;
  readonly batchSize?: number;
}

/**
 * Time the driver against `predictProbs` (the full network on every example, every exit's softmax
 * downloaded, as a simulated evaluation does) on the same images with the same batch size,
 * alternating the two, after one untimed warm-up of each.
 */
export function measureSpeed(
  model: tf.LayersModel,
  staged: StagedModels,
  data: ImageSet,
  shape: readonly number[],
  thresholds: readonly number[],
  opts: MeasureOptions = {},
): SpeedMeasurement {
  const repeats = Math.max(1, opts.repeats ?? 5);
  const batchSize = opts.batchSize ?? 256;
  let result = earlyExit(staged, data, shape, thresholds, { batchSize });
  predictProbs(model, data, shape, batchSize);
  const driverRuns: number[] = [];
  const fullRuns: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let t0 = performance.now();
    result = earlyExit(staged, data, shape, thresholds, { batchSize });
    driverRuns.push(performance.now() - t0);
    t0 = performance.now();
    predictProbs(model, data, shape, batchSize);
    fullRuns.push(performance.now() - t0);
  }
  const driverMs = median(driverRuns);
  const fullMs = median(fullRuns);
  return { driverMs, fullMs, speedup: fullMs / driverMs, repeats, driverRuns, fullRuns, result };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * MACs per example the driver actually executed: each stage's and head's MACs times the rows it
 * computed, over the number of examples. Differs from the cost model only by skipped closed heads.
 */
export function executedMacs(
  result: EarlyExitResult,
  stageMacs: readonly number[],
  headMacs: readonly number[],
): number {
  const n = result.predictions.length;
  if (n === 0) return 0;
  const stages = result.stageRows.reduce((a, rows, s) => a + rows * stageMacs[s]!, 0);
  const heads = result.headRows.reduce((a, rows, m) => a + rows * headMacs[m]!, 0);
  return (stages + heads) / n;
}

export type MeasurePointChoice = "frontier >= 50% at exit 1" | "frontier middle";

/**
 * The operating point to time by default: among frontier points sending >= 50% of test examples
 * out at exit 1, the most accurate; if none does, the middle of the frontier. Null for an empty frontier.
 */
export function defaultMeasurePoint(frontier: readonly DynamicPoint[]): { point: DynamicPoint; how: MeasurePointChoice } | null {
  if (frontier.length === 0) return null;
  const early = frontier.filter((p) => p.exitFractions[0]! >= 0.5);
  if (early.length > 0) return { point: early.reduce((a, b) => (b.top1 > a.top1 ? b : a)), how: "frontier >= 50% at exit 1" };
  return { point: frontier[Math.floor((frontier.length - 1) / 2)]!, how: "frontier middle" };
}
