/**
 * Loading a trained run: the spec text stored in run.json goes through the front end again (so the IR
 * is exactly what the checker produces today), and the best weights are loaded into a tf.LayersModel.
 */
import type * as tf from "@tensorflow/tfjs";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ModelIR } from "../ir/model.js";
import { checkSource } from "../check/index.js";
import { parseOverride } from "../check/overrides.js";
import { loadModel } from "../backends/tfjs/io.js";
import { MODEL_DIR } from "../train/trainer.js";
import { readRunInfo, RunError, type RunInfo } from "./info.js";
import { sha256 } from "../train/checkpoint.js";

export interface LoadedRun {
  readonly ir: ModelIR;
  readonly model: tf.LayersModel;
  readonly run: RunInfo;
  readonly dir: string;
}

export function isRunDir(path: string): boolean {
  return existsSync(join(path, "run.json"));
}

export async function loadRun(dir: string): Promise<LoadedRun> {
  const run = await readRunInfo(dir);
  if (sha256(run.spec) !== run.specHash) throw new RunError(`${join(dir, "run.json")}: the stored spec does not match its hash (edited?)`);
  // The stored spec already has the --set overrides applied; re-check it as `mex train` did.
  const overridden = new Set((run.overrides ?? []).map((raw) => parseOverride(raw)).map((o) => `${o.section}.${o.option}`));
  const checked = checkSource(run.spec, join(dir, "spec.mex"), { overridden });
  if (!checked.ir) {
    const first = checked.diagnostics.find((d) => d.severity === "error");
    throw new RunError(`the spec stored in ${dir} no longer checks: ${first ? `${first.code} ${first.message}` : "unknown error"}`);
  }
  const modelDir = join(dir, MODEL_DIR);
  if (!existsSync(join(modelDir, "model.json"))) {
    throw new RunError(`${dir} has no trained model (${join(MODEL_DIR, "model.json")} is missing${run.status !== "completed" ? `; the run is ${run.status}: resume it with mex train --resume` : ""})`);
  }
  let model: tf.LayersModel;
  try {
    model = await loadModel(modelDir);
  } catch (error) {
    throw new RunError(`cannot load the model in ${modelDir}: ${(error as Error).message}`);
  }
  return { ir: checked.ir, model, run, dir };
}
