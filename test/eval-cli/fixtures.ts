/**
 * Run directories for the eval CLI tests, made with the trainer's own functions (no dist/ needed):
 * a quickstart run trained for one epoch, and runs with untrained weights for cheap error cases.
 */
import { cpSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { saveModel } from "../../src/backends/tfjs/io.js";
import { checkSource } from "../../src/check/index.js";
import { describeRun, writeRunInfo, type RunInfo } from "../../src/run/info.js";
import { MODEL_DIR, train } from "../../src/train/trainer.js";

export const ROOT = join(import.meta.dirname, "../..");

export function specText(name: string, edit: (s: string) => string = (s) => s): string {
  return edit(readFileSync(join(ROOT, "specs", name), "utf8"));
}

function checked(text: string) {
  const c = checkSource(text, "fixture.mex");
  if (!c.ir) throw new Error(`fixture spec does not check: ${c.diagnostics.map((d) => d.message).join("; ")}`);
  return c.ir;
}

const BACKEND = { name: "wasm", reason: "test fixture" };

/** Train `text` for real (keep epochs tiny) and mark the run completed, as `mex train` does. */
export async function trainedRun(dir: string, text: string): Promise<void> {
  const ir = checked(text);
  const info = describeRun(ir, "fixture.mex", [], BACKEND, "test");
  mkdirSync(dir, { recursive: true });
  await writeRunInfo(dir, info);
  const result = await train(ir, { dir });
  await writeRunInfo(dir, { ...info, status: "completed", bestEpoch: result.bestEpoch, results: result.exits, finished: new Date().toISOString() });
}

/** A run directory with untrained weights and the given status. */
export async function untrainedRun(dir: string, text: string, status: RunInfo["status"] = "completed"): Promise<void> {
  const ir = checked(text);
  await saveModel(buildModel(ir, { seed: 1 }), join(dir, MODEL_DIR));
  await writeRunInfo(dir, { ...describeRun(ir, "fixture.mex", [], BACKEND, "test"), status });
}

export function copyRun(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}
