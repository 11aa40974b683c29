/**
 * The training loop: the paper's objective (multiExitLoss), its temperature rule, the spec's optimizer
 * and schedule, per-epoch validation, model selection by the mean validation accuracy over exits, and a
 * crash-safe checkpoint after every epoch. Deterministic for a seed and backend: batch order and
 * augmentation for epoch e come from a stream derived from (seed, e), so a resumed run replays exactly.
 */
import * as tf from "@tensorflow/tfjs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ModelIR } from "../ir/model.js";
import { buildModel } from "../backends/tfjs/build.js";
import { setDropoutStep } from "../backends/tfjs/layers/index.js";
import { predictProbs, top1 } from "../backends/tfjs/predict.js";
import { saveModel } from "../backends/tfjs/io.js";
import { loadDataset, type Dataset, type Split } from "../data/dataset.js";
import { augmentBatch } from "../data/augment.js";
import { batchIndices, gatherBatch } from "../data/batches.js";
import { deriveSeed, Rng } from "../data/rng.js";
import { lossAndGrads, teacherUnion } from "./loss.js";
import { createOptimizer, type MexOptimizer, type OptimizerState } from "./optimizer.js";
import { learningRate } from "./schedule.js";
import { Temperature, type TemperatureState } from "./temperature.js";
import { CheckpointError, loadCheckpoint, removeStaleTemps, writeCheckpoint, writeFileAtomic, type NamedArray } from "./checkpoint.js";

export interface EpochMetrics {
  readonly epoch: number;
  readonly loss: number;
  readonly classification: number;
  readonly distillation: number;
  /** tau at the end of the epoch. */
  readonly tau: number;
  readonly lr: number;
  readonly val_acc: number[];
  readonly seconds: number;
}

export interface TrainEvents {
  /** A line for the log (backend choice, resume, warnings). */
  log?(line: string): void;
  epochStart?(epoch: number, batches: number): void;
  batchEnd?(epoch: number, batch: number, info: { loss: number; tau: number }): void;
  epochEnd?(metrics: EpochMetrics): void;
}

export interface TrainOptions {
  /** Run directory (created). */
  readonly dir: string;
  readonly resume?: boolean;
  /** Replaces the spec's data directory (`--data`). */
  readonly dataDir?: string;
  readonly events?: TrainEvents;
  /** Stop after this many epochs in this process (tests of resume); the run stays resumable. */
  readonly stopAfterEpochs?: number;
}

export interface ExitResult {
  readonly name: string;
  readonly cumulativeMacs: number;
  readonly valAcc: number;
  readonly testAcc: number;
}

export interface TrainResult {
  readonly completed: boolean;
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly exits: readonly ExitResult[];
  readonly history: readonly EpochMetrics[];
}

/**
 * NaN or infinite loss or weights (batch norm can keep the loss finite while the weights overflow):
 * training stops, and the last good checkpoint is left untouched.
 */
export class NumericalError extends Error {
  constructor(
    readonly epoch: number,
    readonly batch: number,
    value: number,
    readonly quantity: "loss" | "weights" = "loss",
  ) {
    const where = `at epoch ${epoch + 1}, batch ${batch + 1}`;
    const what = quantity === "loss" ? `loss became ${value} ${where}` : `the weights became ${value} ${where} (the loss was still finite)`;
    super(`${what}; training stopped and the last checkpoint was kept`);
    this.name = "NumericalError";
  }
}

/** What a training run carries from epoch to epoch (and through a checkpoint). */
interface TrainState {
  /** Completed epochs. */
  epoch: number;
  best: { epoch: number; score: number } | null;
  history: EpochMetrics[];
  /** Weights of the best epoch so far (model selection), in model order. */
  bestWeights: NamedArray[] | null;
}

interface CheckpointState {
  /** Completed epochs. */
  readonly epoch: number;
  readonly temperature: TemperatureState;
  readonly optimizer: Omit<OptimizerState, "variables"> & { variables: { name: string; shape: readonly number[]; step: number; slots: string[] }[] };
  readonly trainable: readonly string[];
  readonly best: { epoch: number; score: number } | null;
  readonly history: readonly EpochMetrics[];
  readonly specHash: string;
}

export const METRICS_FILE = "metrics.jsonl";
export const MODEL_DIR = "model";

export async function train(ir: ModelIR, options: TrainOptions): Promise<TrainResult> {
  const events = options.events ?? {};
  const log = (line: string) => events.log?.(line);
  await mkdir(options.dir, { recursive: true });
  // A process killed mid-write leaves its temp files behind; one trainer owns a run directory at a time.
  for (const stale of await removeStaleTemps(options.dir)) log(`removed ${stale} (left by an interrupted run)`);
  const data = await loadDataset(ir.train.data, ir.input, ir.classes, ir.train.seed, options.dataDir ? { dirOverride: options.dataDir } : {});
  log(`data: ${data.description}`);

  const model = buildModel(ir, { seed: ir.train.seed });
  const optimizer = createOptimizer(ir.train.optimizer);
  const temperature = new Temperature(ir.distill?.temperature ?? { kind: "constant", value: 1 }, ir.train.epochs);
  const state: TrainState = { epoch: 0, best: null, history: [], bestWeights: null };

  if (options.resume) {
    const resumed = await restore(options.dir, ir, model, optimizer, temperature, state);
    if (resumed) log(resumed);
  }
  const pool = trainingPool(data);
  const teachers = ir.distill?.teachers ?? ir.exits.map(() => []);
  const weight = ir.distill?.weight ?? 0;
  const union = teacherUnion(teachers);
  const baseLr = ir.train.optimizer.lr;
  const stopAt = Math.min(ir.train.epochs, options.stopAfterEpochs !== undefined ? state.epoch + options.stopAfterEpochs : Infinity);

  try {
    for (let epoch = state.epoch; epoch < stopAt; epoch++) {
      const started = performance.now();
      const lr = learningRate(ir.train.schedule, baseLr, epoch, ir.train.epochs);
      optimizer.setLearningRate(lr);
      temperature.startEpoch(epoch);
      const rng = new Rng(deriveSeed(ir.train.seed, "epoch", epoch));
      const batches = batchIndices(pool.count, ir.train.batch, rng);
      events.epochStart?.(epoch, batches.length);
      const sums = { loss: 0, classification: 0, distillation: 0, examples: 0 };
      for (let b = 0; b < batches.length; b++) {
        const batch = gatherBatch(pool, batches[b]!);
        const images = ir.train.augment.length > 0 ? augmentBatch(batch.images, batch.count, data.shape, ir.train.augment, rng) : batch.images;
        // Dropout masks follow the global step, so a resumed run draws the same masks as an uninterrupted one.
        setDropoutStep(model, epoch * batches.length + b);
        const step = trainStep(model, optimizer, images, batch.labels, ir.input, {
          teachers,
          weight,
          temperature: temperature.value,
          ...(ir.distill === null ? { scale: 0.5 } : {}),
          ...(temperature.needsConfidence && union.length > 0 ? { confidenceOver: union } : {}),
        });
        if (!Number.isFinite(step.total)) throw new NumericalError(epoch, b, step.total);
        if (!Number.isFinite(step.weights)) throw new NumericalError(epoch, b, step.weights, "weights");
        if (step.confidence !== null) temperature.afterBatch(step.confidence);
        sums.loss += step.total * batch.count;
        sums.classification += step.classification * batch.count;
        sums.distillation += step.distillation * batch.count;
        sums.examples += batch.count;
        events.batchEnd?.(epoch, b, { loss: step.total, tau: temperature.value });
      }
      const valAcc = exitAccuracies(model, data.val, ir);
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        loss: sums.loss / sums.examples,
        classification: sums.classification / sums.examples,
        distillation: sums.distillation / sums.examples,
        tau: temperature.value,
        lr,
        val_acc: valAcc,
        seconds: (performance.now() - started) / 1000,
      };
      state.history.push(metrics);
      const score = mean(valAcc);
      if (state.best === null || score > state.best.score) {
        state.best = { epoch: epoch + 1, score };
        state.bestWeights = snapshot(model);
      }
      state.epoch = epoch + 1;
      await saveCheckpoint(options.dir, ir, model, optimizer, temperature, state);
      events.epochEnd?.(metrics);
    }
  } finally {
    optimizer.dispose();
  }
  const completed = state.epoch >= ir.train.epochs;
  if (!completed) {
    model.dispose();
    return { completed, epochs: state.epoch, bestEpoch: state.best?.epoch ?? 0, exits: [], history: state.history };
  }
  if (state.bestWeights) setWeights(model, state.bestWeights);
  const exits = finalResults(model, data, ir);
  await saveModel(model, join(options.dir, MODEL_DIR), { metadata: { specHash: ir.sourceHash, seed: ir.train.seed, bestEpoch: state.best?.epoch ?? 0 } });
  model.dispose();
  return { completed, epochs: state.epoch, bestEpoch: state.best?.epoch ?? 0, exits, history: state.history };
}

/** Labeled train examples plus the unlabeled pool (labels -1), shuffled together each epoch. */
function trainingPool(data: Dataset): Split {
  if (!data.unlabeled || data.unlabeled.count === 0) return data.train;
  const images = new Float32Array(data.train.images.length + data.unlabeled.images.length);
  images.set(data.train.images);
  images.set(data.unlabeled.images, data.train.images.length);
  const labels = new Int32Array(data.train.count + data.unlabeled.count);
  labels.set(data.train.labels);
  labels.fill(-1, data.train.count);
  return { images, labels, count: labels.length };
}

export interface StepResult {
  total: number;
  /** Sum of |w| over all weights after the step. */
  weights: number;
  classification: number;
  distillation: number;
  confidence: number | null;
}

/** One optimisation step (exactly what the trainer does per batch); reads all scalars back with one sync. */
export function trainStep(
  model: tf.LayersModel,
  optimizer: MexOptimizer,
  images: Float32Array,
  labels: Int32Array,
  shape: readonly number[],
  settings: Parameters<typeof lossAndGrads>[2],
): StepResult {
  const x = tf.tensor(images, [labels.length, ...shape]);
  const y = tf.tensor1d(labels, "int32");
  const out = lossAndGrads(() => model.apply(x, { training: true }) as tf.Tensor2D[], y, settings);
  optimizer.applyGradients(out.grads);
  // Sum of |w| after the update, read in the same sync: NaN or Infinity when any weight overflowed.
  const weights = tf.tidy(() => tf.addN(model.weights.map((w) => tf.sum(tf.abs(w.read())))));
  const scalars = [out.total, out.classification, out.distillation, weights, ...(out.confidence ? [out.confidence] : [])];
  const values = tf.tidy(() => tf.stack(scalars).dataSync());
  tf.dispose([x, y, ...scalars, ...Object.values(out.grads)]);
  return { total: values[0]!, classification: values[1]!, distillation: values[2]!, weights: values[3]!, confidence: out.confidence ? values[4]! : null };
}

function exitAccuracies(model: tf.LayersModel, split: Split, ir: ModelIR): number[] {
  const probs = predictProbs(model, split, ir.input);
  return probs.map((p) => top1(p, split.labels, ir.classes));
}

function finalResults(model: tf.LayersModel, data: Dataset, ir: ModelIR): ExitResult[] {
  const val = exitAccuracies(model, data.val, ir);
  const test = exitAccuracies(model, data.test, ir);
  return ir.exits.map((exit, m) => ({ name: exit.name, cumulativeMacs: exit.cumulativeMacs, valAcc: val[m]!, testAcc: test[m]! }));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

/** Every weight (trainable and batch-norm statistics) copied out, in model order. */
function snapshot(model: tf.LayersModel): NamedArray[] {
  return model.weights.map((w) => {
    const value = w.read();
    return { name: w.originalName, shape: value.shape, data: Float32Array.from(value.dataSync() as Float32Array) };
  });
}

function setWeights(model: tf.LayersModel, arrays: readonly NamedArray[]): void {
  if (arrays.length !== model.weights.length) throw new Error(`checkpoint holds ${arrays.length} weights, the model has ${model.weights.length}`);
  const tensors = arrays.map((a, i) => {
    const expected = model.weights[i]!.shape;
    if (expected.join(",") !== a.shape.join(",")) throw new Error(`checkpoint weight '${a.name}' has shape [${a.shape.join(", ")}], the model expects [${expected.join(", ")}]`);
    return tf.tensor(a.data, [...a.shape]);
  });
  model.setWeights(tensors);
  tf.dispose(tensors);
}

async function saveCheckpoint(dir: string, ir: ModelIR, model: tf.LayersModel, optimizer: MexOptimizer, temperature: Temperature, state: TrainState): Promise<void> {
  const exported = optimizer.exportState();
  const slots: NamedArray[] = [];
  const variables = exported.variables.map((v) => {
    const names = Object.keys(v.slots);
    for (const slot of names) slots.push({ name: `${v.name}|${slot}`, shape: v.shape, data: v.slots[slot]! });
    return { name: v.name, shape: v.shape, step: v.step, slots: names };
  });
  const checkpoint: CheckpointState = {
    epoch: state.epoch,
    temperature: temperature.state(),
    optimizer: { kind: exported.kind, iterations: exported.iterations, variables },
    trainable: model.trainableWeights.map((w) => (w.read() as tf.Variable).name),
    best: state.best,
    history: state.history,
    specHash: ir.sourceHash,
  };
  await writeCheckpoint(dir, checkpoint, { weights: snapshot(model), best: state.bestWeights ?? [], optimizer: slots });
  await writeMetrics(dir, state.history);
}

/** metrics.jsonl is derived from the checkpoint's history and replaced whole: never torn, never duplicated. */
async function writeMetrics(dir: string, history: readonly EpochMetrics[]): Promise<void> {
  await writeFileAtomic(join(dir, METRICS_FILE), history.map((m) => JSON.stringify(m)).join("\n") + "\n");
}

async function restore(
  dir: string,
  ir: ModelIR,
  model: tf.LayersModel,
  optimizer: MexOptimizer,
  temperature: Temperature,
  state: TrainState,
): Promise<string | null> {
  const loaded = await loadCheckpoint<CheckpointState>(dir);
  if (!loaded) return "resume: no checkpoint found; starting from epoch 1";
  const saved = loaded.state;
  if (saved.specHash !== ir.sourceHash) {
    throw new CheckpointError(`resume: the checkpoint in ${dir} was written for a different spec (hash ${saved.specHash.slice(0, 12)}, now ${ir.sourceHash.slice(0, 12)})`);
  }
  setWeights(model, loaded.groups.get("weights") ?? []);
  const slotArrays = new Map((loaded.groups.get("optimizer") ?? []).map((a) => [a.name, a.data]));
  const current = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
  const renames = new Map(saved.trainable.map((name, i) => [name, current[i]!]));
  optimizer.importState(
    {
      kind: saved.optimizer.kind,
      iterations: saved.optimizer.iterations,
      variables: saved.optimizer.variables.map((v) => ({
        name: v.name,
        shape: v.shape,
        step: v.step,
        slots: Object.fromEntries(v.slots.map((s) => [s, slotArrays.get(`${v.name}|${s}`)!])),
      })),
    },
    (name) => renames.get(name) ?? name,
  );
  temperature.restore(saved.temperature);
  state.epoch = saved.epoch;
  state.best = saved.best;
  state.history = [...saved.history];
  // A kill between the checkpoint's rename and the metrics write leaves metrics.jsonl one epoch behind.
  await writeMetrics(dir, state.history);
  const best = loaded.groups.get("best");
  state.bestWeights = best && best.length > 0 ? best : null;
  const note = `resume: continuing after epoch ${saved.epoch} (tau ${temperature.value.toFixed(4)})`;
  return loaded.warning ? `warning: ${loaded.warning}\n${note}` : note;
}
