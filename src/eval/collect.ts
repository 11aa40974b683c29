/**
 * From a trained run directory to what the evaluation modules need: per-exit softmax outputs on the
 * validation and test splits (the same splits the trainer used), the exits' costs, and the cost of
 * stopping at each exit in a real early-exit run.
 */
import type * as tf from "@tensorflow/tfjs";
import { basename, resolve } from "node:path";
import { exitStopCosts, type ModelIR } from "../ir/model.js";
import { loadDataset, type Dataset, type Split } from "../data/dataset.js";
import { predictProbs } from "../backends/tfjs/predict.js";
import { loadRun, type LoadedRun } from "../run/load.js";
import { RunError } from "../run/info.js";
import type { ExitInfo, ExitOutputs } from "./types.js";

export interface CollectedRun {
  readonly loaded: LoadedRun;
  readonly dataset: Dataset;
  readonly exits: ExitInfo[];
  /** exitCostIfStopAt[m]: backbone up to stage(m) + heads of exits 0..m. */
  readonly exitCostIfStopAt: number[];
  /** Every stage and every head: what `model.predict` (all exits) costs per example. */
  readonly fullMacs: number;
  readonly val: ExitOutputs;
  readonly test: ExitOutputs;
}

export interface CollectOptions {
  /** Read IDX files from here instead of the spec's data directory. */
  readonly dataDir?: string;
  readonly batchSize?: number;
  /** Accept runs whose status is not "completed" (their best weights so far). */
  readonly allowIncomplete?: boolean;
}

/** The evaluator's view of the IR's exits. */
export function exitInfos(ir: ModelIR): ExitInfo[] {
  return ir.exits.map((e) => ({ name: e.name, cumulativeMacs: e.cumulativeMacs }));
}

/**
 * Cost of an example that stops at exit m in an early-exit run: the backbone up to the exit's stage
 * plus every head up to and including m (each earlier head was asked and declined).
 */
export function exitCostIfStopAt(ir: ModelIR): number[] {
  return exitStopCosts(ir);
}

/** The full network with every exit: all stages plus all heads. */
export function fullNetworkMacs(ir: ModelIR): number {
  return ir.macs;
}

/** Softmax of every exit on one split, with its labels. */
export function splitOutputs(model: tf.LayersModel, split: Split, ir: ModelIR, batchSize = 256): ExitOutputs {
  const probs = predictProbs(model, { images: split.images, count: split.count }, ir.input, batchSize);
  return { probs, labels: split.labels, classes: ir.classes };
}

/**
 * Load a run and compute its val/test outputs. Throws RunError (not a run dir, unfinished run,
 * unloadable model) and DataError (dataset missing) for the caller to report.
 */
export async function collectRun(dir: string, opts: CollectOptions = {}): Promise<CollectedRun> {
  const loaded = await loadRun(dir);
  if (loaded.run.status !== "completed" && !opts.allowIncomplete) {
    throw new RunError(`${dir} is an unfinished run (status: ${loaded.run.status}); finish it with mex train --resume`);
  }
  const { ir, model } = loaded;
  const dataset = await loadDataset(ir.train.data, ir.input, ir.classes, ir.train.seed, opts.dataDir ? { dirOverride: opts.dataDir } : {});
  if (dataset.val.count === 0) throw new RunError(`${dir}: the spec's data has no validation split (val_per_class=0); thresholds and budget exits are chosen on it`);
  return {
    loaded,
    dataset,
    exits: exitInfos(ir),
    exitCostIfStopAt: exitCostIfStopAt(ir),
    fullMacs: fullNetworkMacs(ir),
    val: splitOutputs(model, dataset.val, ir, opts.batchSize),
    test: splitOutputs(model, dataset.test, ir, opts.batchSize),
  };
}

/** How a run was trained, for labels: exit-wise when there is no distillation term. */
export function trainingKind(ir: ModelIR): "distilled" | "exit-wise" {
  return ir.distill === null || ir.distill.mode === "none" || ir.distill.weight === 0 ? "exit-wise" : "distilled";
}

/**
 * Labels for a comparison: "model (distilled)" when that tells the runs apart, else the directory
 * basename, else the path as given.
 */
export function runLabels(runs: readonly { dir: string; ir: ModelIR }[]): string[] {
  const unique = (labels: string[]) => new Set(labels).size === labels.length;
  if (runs.length === 1) return [basename(resolve(runs[0]!.dir))];
  const byModel = runs.map((r) => `${r.ir.name} (${trainingKind(r.ir)})`);
  if (unique(byModel)) return byModel;
  const byDir = runs.map((r) => basename(resolve(r.dir)));
  if (unique(byDir)) return byDir;
  return runs.map((r) => r.dir);
}
