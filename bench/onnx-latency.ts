/**
 * Latency of the early-exit ONNX graph vs the full multi-exit graph, batch 1, ONNX Runtime (CPU, one
 * thread), on fashion-3exit with initial (random) weights.
 *
 * Thresholds are chosen from the exit-1 max-softmax distribution of the same random inputs so that
 * ~0%, ~50% and ~100% of them leave at exit 1 (the rest go on to the last exit: exit 2 is closed
 * with a threshold above 1 except in the last row, which also uses exit 2's median).
 *
 *   npx tsx bench/onnx-latency.ts [--examples N] [--repeats R]
 */
import { readFileSync } from "node:fs";
import Table from "cli-table3";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { checkSource } from "../src/check/index.js";
import { buildModel } from "../src/backends/tfjs/build.js";
import { extractWeights } from "../src/backends/tfjs/weights.js";
import { earlyExitCosts, exportOnnx } from "../src/backends/onnx/index.js";
import type { ModelIR } from "../src/ir/model.js";
import { Rng } from "../src/data/rng.js";

const SPEC = "specs/fashion-3exit.mex";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Deterministic uniform [0, 1) from the project's seeded generator. */
function uniform(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.next());
}

function maxSoftmax(logits: Float32Array, row: number, classes: number): number {
  const xs = Array.from(logits.subarray(row * classes, (row + 1) * classes));
  const m = Math.max(...xs);
  const sum = xs.reduce((s, v) => s + Math.exp(v - m), 0);
  return 1 / sum;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: (process.env.ORT_OPT as "all" | "basic" | "extended" | "disabled" | undefined) ?? "all" });
}

/** Which exit answered each input (early-exit graph), as fractions per exit. */
async function exitFractions(s: ort.InferenceSession, inputs: readonly Float32Array[], ir: ModelIR): Promise<number[]> {
  const counts = new Array<number>(ir.exits.length).fill(0);
  for (const x of inputs) {
    const out = await s.run({ input: new ort.Tensor("float32", x, [1, ...ir.input]) });
    counts[Number((out.exit_index!.data as BigInt64Array)[0])]!++;
  }
  return counts.map((n) => n / inputs.length);
}

/** Mean ms per example of one pass over the inputs (each run alone, batch 1). */
async function pass(s: ort.InferenceSession, inputs: readonly Float32Array[], ir: ModelIR): Promise<number> {
  const shape = [1, ...ir.input];
  const t0 = process.hrtime.bigint();
  for (const x of inputs) await s.run({ input: new ort.Tensor("float32", x, shape) });
  return Number(process.hrtime.bigint() - t0) / 1e6 / inputs.length;
}

/**
 * Median over repeats of each session's ms per example. Sessions are timed round-robin within
 * each repeat, so a burst of load from other processes hits all of them alike.
 */
async function timeAll(sessions: readonly ort.InferenceSession[], inputs: readonly Float32Array[], ir: ModelIR, repeats: number): Promise<number[]> {
  for (const s of sessions) await pass(s, inputs.slice(0, 20), ir); // warm-up
  const samples = sessions.map(() => [] as number[]);
  for (let r = 0; r < repeats; r++) {
    for (const [i, s] of sessions.entries()) samples[i]!.push(await pass(s, inputs, ir));
  }
  return samples.map(median);
}

async function main(): Promise<void> {
  await tf.setBackend("cpu");
  const examples = arg("--examples", 200);
  const repeats = arg("--repeats", 5);
  const { ir } = checkSource(readFileSync(SPEC, "utf8"), SPEC);
  if (!ir) throw new Error(`${SPEC} does not check`);
  const weights = extractWeights(buildModel(ir, { seed: ir.train.seed }));
  const size = ir.input.reduce((a, b) => a * b, 1);
  const inputs = Array.from({ length: examples }, (_, i) => uniform(size, 1000 + i));

  const full = await session(exportOnnx(ir, weights, { producerVersion: "bench" }));
  // Exit confidences of every input, from the full graph in one batch.
  const batch = new Float32Array(size * examples);
  inputs.forEach((x, i) => batch.set(x, i * size));
  const all = await full.run({ input: new ort.Tensor("float32", batch, [examples, ...ir.input]) });
  const conf = ir.exits.map((e) => Array.from({ length: examples }, (_, i) => maxSoftmax(all[`logits_${e.name}`]!.data as Float32Array, i, ir.classes)));
  const c1 = conf[0]!;
  const c2 = conf[1]!;

  const configs: { label: string; thresholds: number[] }[] = [
    { label: "~0% at e1", thresholds: [Math.max(...c1) + 1e-3, 2, 0] },
    { label: "~50% at e1", thresholds: [median(c1), 2, 0] },
    { label: "~100% at e1", thresholds: [0, 2, 0] },
    { label: "~50% e1, e2 median", thresholds: [median(c1), median(c2), 0] },
  ];

  const early = await Promise.all(configs.map((c) => session(exportOnnx(ir, weights, { producerVersion: "bench", earlyExit: { thresholds: c.thresholds } }))));
  const fractions = await Promise.all(early.map((s) => exitFractions(s, inputs, ir)));
  const [fullMs, ...earlyMs] = await timeAll([full, ...early], inputs, ir, repeats);

  const table = new Table({ head: ["graph", "thresholds (e1, e2)", "exit fractions e1/e2/e3", "expected MACs", "ms / example", "vs full"] });
  const lastMacs = ir.exits[ir.exits.length - 1]!.cumulativeMacs;
  table.push(["full (all exits)", "-", "-", String(ir.macs), fullMs!.toFixed(3), "1.00"]);
  configs.forEach((config, i) => {
    const costs = earlyExitCosts(ir, config.thresholds);
    const expected = fractions[i]!.reduce((sum, f, m) => sum + f * costs[m]!, 0);
    table.push([
      `early exit, ${config.label}`,
      config.thresholds.slice(0, 2).map((v) => v.toFixed(4)).join(", "),
      fractions[i]!.map((f) => f.toFixed(2)).join(" / "),
      String(Math.round(expected)),
      earlyMs[i]!.toFixed(3),
      (earlyMs[i]! / fullMs!).toFixed(2),
    ]);
  });
  console.log(`${SPEC}: ${examples} random inputs, batch 1, onnxruntime-node ${ort.env.versions.common} CPU, 1 thread, median of ${repeats} repeats`);
  console.log(`MACs: full graph (backbone + all heads) ${ir.macs}; last exit alone ${lastMacs}`);
  console.log(table.toString());
}

await main();
