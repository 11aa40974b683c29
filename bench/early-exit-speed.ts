/**
 * Measured wall-clock speed-up of real early exit (src/eval/driver.ts) against the full network
 * (model.predict, every exit) on the Fashion-MNIST test split, with the fashion-3exit spec.
 *
 * Trains a short run first (1 epoch, 100 labeled images per class of which 20 validate) unless the
 * run directory already holds a completed run; then chooses thresholds on validation (MSDNet's
 * geometric sweep and the shared-threshold sweep) and times the driver against the full network
 * (median of R alternating repeats) at the point `mex eval --measure` picks by default (the most
 * accurate frontier point sending >= 50% of the test examples out at exit 1) and with everyone
 * leaving at exit 1 (the bound on the saving).
 *
 *   npx tsx bench/early-exit-speed.ts [--run DIR] [--repeats R] [--batch B] [--examples N] [--backend auto|wasm|cpu]
 *
 * The run directory also works with `mex eval DIR --mode dynamic --measure`.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import Table from "cli-table3";
import { initBackend, type BackendChoice } from "../src/backends/tfjs/backend.js";
import { buildStagedModels } from "../src/backends/tfjs/stages.js";
import { checkSource } from "../src/check/index.js";
import { collectRun } from "../src/eval/collect.js";
import { defaultMeasurePoint, executedMacs, measureSpeed, median } from "../src/eval/driver.js";
import { dynamic } from "../src/eval/dynamic.js";
import { macs, pct, shares, theta } from "../src/eval/format.js";
import type { ModelIR } from "../src/ir/model.js";
import { describeRun, readRunInfo, writeRunInfo } from "../src/run/info.js";
import { train } from "../src/train/trainer.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const RUN = arg("--run", "/tmp/mex-bench/fashion-3exit-e1");
const REPEATS = Number(arg("--repeats", "5"));
const BATCH = Number(arg("--batch", "256"));
const EXAMPLES = Number(arg("--examples", "2000"));
const BACKEND = arg("--backend", "auto") as BackendChoice;

/** fashion-3exit, shortened: one epoch (constant lr) on 100 labeled images per class (20 for validation). */
function benchSpec(): string {
  const text = readFileSync("specs/fashion-3exit.mex", "utf8")
    .replace(/data: fashion_mnist\([^)]*\)/, "data: fashion_mnist(per_class=100, val_per_class=20)")
    .replace(/epochs: \d+/, "epochs: 1")
    // Its lr milestones (epochs 15 and 22) lie beyond one epoch: the schedule would be constant anyway.
    .replace(/\n\s*schedule: [^\n]*/, "");
  if (!text.includes("per_class=100, val_per_class=20") || !text.includes("epochs: 1")) throw new Error("specs/fashion-3exit.mex changed: update benchSpec()");
  return text;
}

async function ensureRun(dir: string, backend: { name: string; reason: string }): Promise<void> {
  if (existsSync(join(dir, "run.json")) && (await readRunInfo(dir)).status === "completed") {
    console.log(`using the completed run in ${dir}`);
    return;
  }
  const checked = checkSource(benchSpec(), "specs/fashion-3exit.mex (bench)");
  if (!checked.ir) throw new Error(`the bench spec does not check: ${checked.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  mkdirSync(dir, { recursive: true });
  const info = describeRun(checked.ir, "specs/fashion-3exit.mex", ["train.epochs=1", "data per_class=100 val_per_class=20"], backend, "bench");
  await writeRunInfo(dir, info);
  const t0 = performance.now();
  const result = await train(checked.ir, { dir });
  await writeRunInfo(dir, { ...info, status: "completed", bestEpoch: result.bestEpoch, results: result.exits, finished: new Date().toISOString() });
  console.log(`trained ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s: test top-1 per exit ${result.exits.map((e) => pct(e.testAcc)).join(" / ")} %`);
}

async function main(): Promise<void> {
  const backend = await initBackend(BACKEND);
  console.log(`backend: ${backend.name} (${backend.reason})`);
  await ensureRun(RUN, backend);
  const c = await collectRun(RUN);
  const { ir, model } = c.loaded;
  const result = dynamic(c.val, c.test, c.exits, { exitCostIfStopAt: c.exitCostIfStopAt });
  // The point `mex eval --measure` times by default (the most accurate frontier point sending >= 50%
  // of the test examples out at exit 1), then everyone out at exit 1 as the bound on the saving.
  const chosen = defaultMeasurePoint(result.frontier);
  if (!chosen || chosen.how !== "frontier >= 50% at exit 1") throw new Error("no frontier point sends >= 50% of the test examples out at exit 1");
  const points: { label: string; thresholds: readonly number[] }[] = [
    { label: `frontier, ${shares(chosen.point.exitFractions)} %`, thresholds: chosen.point.thresholds },
    { label: "all at exit 1", thresholds: ir.exits.map(() => 0) },
  ];
  const staged = buildStagedModels(ir, model);
  const count = Math.min(EXAMPLES, c.dataset.test.count);
  const pixels = ir.input.reduce((a, b) => a * b, 1);
  const test = { images: c.dataset.test.images.subarray(0, count * pixels), count };
  const labels = c.dataset.test.labels.subarray(0, count);
  console.log(`timing on the first ${count} test examples, batch ${BATCH}, median of ${REPEATS} alternating repeats; full network = every stage and exit, ${macs(c.fullMacs)} MACs per example`);
  const table = new Table({
    head: ["point", "thresholds", "exit shares %", "top-1 %", "early exit ms", "full ms", "wall-clock speed-up", "MACs speed-up"],
    colAligns: ["left", "left", "left", "right", "right", "right", "right", "right"],
    style: { head: [], border: [] },
  });
  for (const p of points) {
    const m = measureSpeed(model, staged, test, ir.input, p.thresholds, { repeats: REPEATS, batchSize: BATCH });
    const executed = executedMacs(m.result, ir.stages.map((s) => s.macs), ir.exits.map((e) => e.macs));
    const counts = new Array<number>(ir.exits.length).fill(0);
    let correct = 0;
    m.result.exitOf.forEach((e, i) => {
      counts[e]!++;
      if (m.result.predictions[i] === labels[i]) correct++;
    });
    table.push([
      p.label,
      p.thresholds.map(theta).join(" "),
      shares(counts.map((k) => k / count)),
      pct(correct / count),
      m.driverMs.toFixed(0),
      m.fullMs.toFixed(0),
      `${m.speedup.toFixed(2)}x`,
      `${(c.fullMacs / executed).toFixed(2)}x`,
    ]);
    console.log(`  ${p.label}: early exit runs ${m.driverRuns.map((t) => t.toFixed(0)).join(" ")} ms; full runs ${m.fullRuns.map((t) => t.toFixed(0)).join(" ")} ms`);
  }
  console.log(table.toString());
  console.log(partTimes(ir, staged, test, Math.min(BATCH, count)));
}

/**
 * Where the time goes: each stage and head timed alone on one full batch (median of REPEATS), next
 * to its share of the MACs. Early layers on large feature maps cost far more time per MAC than the
 * deep convolutions (memory-bound batch norm, ReLU and pooling), which caps the wall-clock saving.
 */
function partTimes(ir: ModelIR, staged: ReturnType<typeof buildStagedModels>, data: { images: Float32Array }, n: number): string {
  const shape = ir.input;
  const pixels = shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(data.images.subarray(0, n * pixels), [n, ...shape]);
  const features: tf.Tensor[] = [];
  let h = x;
  for (const s of staged.stages) features.push((h = s.model.predict(h, { batchSize: n }) as tf.Tensor));
  const parts = [
    ...staged.stages.map((s, i) => ({ name: `stage ${s.name}`, run: () => s.model.predict(i === 0 ? x : features[i - 1]!, { batchSize: n }) as tf.Tensor })),
    ...staged.heads.map((e) => ({ name: `head ${e.name}`, run: () => e.model.predict(features[e.stageIndex]!, { batchSize: n }) as tf.Tensor })),
  ];
  const times = parts.map((p) => {
    const runs: number[] = [];
    for (let r = 0; r <= REPEATS; r++) {
      const t0 = performance.now();
      const y = p.run();
      y.dataSync();
      y.dispose();
      if (r > 0) runs.push(performance.now() - t0); // the first run warms up
    }
    return median(runs);
  });
  const total = times.reduce((a, b) => a + b, 0);
  const partMacs = [...ir.stages.map((s) => s.macs), ...ir.exits.map((e) => e.macs)];
  const totalMacs = partMacs.reduce((a, b) => a + b, 0);
  const table = new Table({ head: ["part", "ms per batch", "time share %", "MACs share %"], colAligns: ["left", "right", "right", "right"], style: { head: [], border: [] } });
  parts.forEach((p, i) => table.push([p.name, times[i]!.toFixed(1), pct(times[i]! / total), pct(partMacs[i]! / totalMacs)]));
  [x, ...features].forEach((t) => t.dispose());
  return `time per part on one batch of ${n} (median of ${REPEATS})\n${table.toString()}`;
}

await main();
