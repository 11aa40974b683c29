/**
 * `npm run bench`: the training-step benchmark of issue 4 (Part 3).
 *
 * For each reference spec at batch 64: the median wall time of one training step (forward + backward
 * with the real multiExitLoss + optimizer update + the trainer's read-back, exactly trainer.ts's
 * trainStep) on the tfjs `wasm` backend (with mex's training kernels) and on the pure-JS `cpu`
 * backend, and of the same step in PyTorch (bench/peers/torch_step.py, built from the same checked IR)
 * with 1 and 2 threads. Warm-up steps are excluded. Then the examples/second of a full `mex train`
 * epoch and that process's peak RSS.
 *
 *   npm run bench                      table for quickstart, fashion-3exit, resnet20-cifar + epoch line
 *   npm run bench -- --json            one JSON object on stdout (progress goes to stderr)
 *   npm run bench -- --quick           fashion-3exit only
 *   npm run bench -- --agreement       also: 1-epoch runs on wasm and cpu from one seed, per-exit accuracies
 *   npm run bench -- --workers         also: data-parallel prototype (2 worker threads, half batch each)
 *   npm run bench -- --no-epoch --no-torch --no-cpu   skip parts
 *
 * See bench/README.md for what each number means.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import Table from "cli-table3";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backends/tfjs/backend.js";
import { buildModel } from "../src/backends/tfjs/build.js";
import { checkSource } from "../src/check/index.js";
import { applyOverrides, parseOverride } from "../src/check/overrides.js";
import type { LayerNode, ModelIR } from "../src/ir/model.js";
import { lossAndGrads, teacherUnion, type LossSettings } from "../src/train/loss.js";
import { trainStep } from "../src/train/trainer.js";
import { createOptimizer } from "../src/train/optimizer.js";
import { Temperature } from "../src/train/temperature.js";
import { train } from "../src/train/trainer.js";
import { Rng } from "../src/data/rng.js";

const BATCH = 64;
const PYTHON = "/usr/bin/python3";
const PEER = "bench/peers/torch_step.py";

/** Steps per backend and spec: cpu is 100-1000x slower, so it gets few steps. */
interface StepPlan {
  readonly spec: string;
  readonly wasm: { warmup: number; steps: number };
  readonly cpu: { warmup: number; steps: number };
  readonly torch: { warmup: number; steps: number };
}

const PLANS: readonly StepPlan[] = [
  { spec: "quickstart", wasm: { warmup: 3, steps: 15 }, cpu: { warmup: 1, steps: 3 }, torch: { warmup: 3, steps: 15 } },
  // A cpu step of fashion-3exit takes minutes: its first-step set-up cost (about 1 s on wasm) is
  // below 1% of that, so cpu gets no warm-up here.
  { spec: "fashion-3exit", wasm: { warmup: 2, steps: 9 }, cpu: { warmup: 0, steps: 2 }, torch: { warmup: 2, steps: 9 } },
  { spec: "resnet20-cifar", wasm: { warmup: 1, steps: 5 }, cpu: { warmup: 0, steps: 1 }, torch: { warmup: 2, steps: 7 } },
];

// ---------------------------------------------------------------------------------------------
// The IR the PyTorch peer reads.

/** One IR node as the peer needs it: structure, arguments and shapes (no spans, costs or names of blocks' parts). */
export interface PeerNode {
  readonly kind: LayerNode["kind"];
  readonly name: string;
  readonly op?: string;
  readonly args?: unknown;
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  readonly body?: readonly PeerNode[];
  readonly shortcut?: readonly PeerNode[];
}

/** Everything bench/peers/torch_step.py reads: architecture, loss settings of the first step, optimizer. */
export interface PeerIR {
  readonly name: string;
  readonly input: readonly number[];
  readonly classes: number;
  /** Trainable parameters and batch-norm buffers: the peer checks its module against these. */
  readonly params: number;
  readonly buffers: number;
  readonly stages: readonly { name: string; nodes: readonly PeerNode[] }[];
  readonly exits: readonly { name: string; stageIndex: number; head: readonly PeerNode[] }[];
  readonly loss: {
    readonly teachers: readonly (readonly number[])[];
    readonly weight: number;
    /** tau of the first step (the schedule's initial value). */
    readonly temperature: number;
    /** 0.5 for exit-wise training (no distill), else 1 (see LossSettings.scale). */
    readonly scale: number;
    /** Exits whose confidence the adaptive temperature reads (empty: not computed). */
    readonly confidenceOver: readonly number[];
  };
  readonly optimizer: ModelIR["train"]["optimizer"];
}

function peerNode(node: LayerNode): PeerNode {
  const base = { kind: node.kind, name: node.name, inShape: node.inShape, outShape: node.outShape };
  switch (node.kind) {
    case "op":
      return { ...base, op: node.op, args: node.args };
    case "residual":
      return { ...base, body: node.body.map(peerNode), shortcut: node.shortcut.map(peerNode) };
    case "concat":
      return { ...base, body: node.body.map(peerNode) };
  }
}

/** The loss settings of the trainer's first step for this IR (trainer.ts builds the same object). */
export function firstStepSettings(ir: ModelIR): LossSettings {
  const teachers = ir.distill?.teachers ?? ir.exits.map(() => []);
  const temperature = new Temperature(ir.distill?.temperature ?? { kind: "constant", value: 1 }, ir.train.epochs);
  temperature.startEpoch(0);
  const union = teacherUnion(teachers);
  return {
    teachers,
    weight: ir.distill?.weight ?? 0,
    temperature: temperature.value,
    ...(ir.distill === null ? { scale: 0.5 } : {}),
    ...(temperature.needsConfidence && union.length > 0 ? { confidenceOver: union } : {}),
  };
}

export function peerIR(ir: ModelIR): PeerIR {
  const s = firstStepSettings(ir);
  return {
    name: ir.name,
    input: ir.input,
    classes: ir.classes,
    params: ir.params,
    buffers: ir.buffers,
    stages: ir.stages.map((st) => ({ name: st.name, nodes: st.nodes.map(peerNode) })),
    exits: ir.exits.map((e) => ({ name: e.name, stageIndex: e.stageIndex, head: e.head.map(peerNode) })),
    loss: { teachers: s.teachers, weight: s.weight, temperature: s.temperature, scale: s.scale ?? 1, confidenceOver: s.confidenceOver ?? [] },
    optimizer: ir.train.optimizer,
  };
}

export function checkSpecFile(file: string, overrides: readonly string[] = []): ModelIR {
  const text = applyOverrides(readFileSync(file, "utf8"), overrides.map(parseOverride));
  const result = checkSource(text, file);
  if (!result.ir) throw new Error(`${file}: ${result.diagnostics.map((d) => d.message).join("; ")}`);
  return result.ir;
}

/** Uniform [0, 1) numbers from the project's seeded generator, so runs reproduce. */
function seeded(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

function randomBatch(ir: ModelIR, batch: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const next = seeded(seed);
  const perExample = ir.input.reduce((a, b) => a * b, 1);
  const images = new Float32Array(batch * perExample);
  // Box-Muller: standardised inputs, like the trainer's normalised data.
  for (let i = 0; i < images.length; i++) images[i] = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const labels = Int32Array.from({ length: batch }, () => Math.floor(next() * ir.classes));
  return { images, labels };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface StepTiming {
  readonly medianMs: number;
  readonly samplesMs: readonly number[];
  readonly warmup: number;
}

/** Median step time of a freshly built model on the given tfjs backend. */
async function timeSteps(ir: ModelIR, backend: "wasm" | "cpu", plan: { warmup: number; steps: number }, batch: number, log: (s: string) => void): Promise<StepTiming> {
  await initBackend(backend);
  const model = buildModel(ir, { seed: 0 });
  const optimizer = createOptimizer(ir.train.optimizer);
  const settings = firstStepSettings(ir);
  const { images, labels } = randomBatch(ir, batch, 1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < plan.warmup + plan.steps; i++) {
      const t0 = performance.now();
      const r = trainStep(model, optimizer, images, labels, ir.input, settings);
      const ms = performance.now() - t0;
      if (!Number.isFinite(r.total) || !Number.isFinite(r.weights)) throw new Error(`${ir.name} on ${backend}: non-finite loss or weights at step ${i + 1}`);
      if (i >= plan.warmup) samples.push(ms);
      log(`  ${ir.name} ${backend} step ${i + 1}/${plan.warmup + plan.steps}${i < plan.warmup ? " (warm-up)" : ""}: ${ms.toFixed(1)} ms`);
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return { medianMs: median(samples), samplesMs: samples, warmup: plan.warmup };
}

// ---------------------------------------------------------------------------------------------
// PyTorch peer.

interface TorchResult {
  readonly version: string | null;
  readonly note: string | null;
  readonly byThreads: ReadonlyMap<number, StepTiming>;
}

function runTorch(ir: ModelIR, plan: { warmup: number; steps: number }, batch: number, dir: string): TorchResult {
  const file = join(dir, `${ir.name}.ir.json`);
  writeFileSync(file, JSON.stringify(peerIR(ir)));
  if (!existsSync(PYTHON)) return { version: null, note: `${PYTHON} not found: PyTorch columns are null`, byThreads: new Map() };
  const args = [PEER, file, "--batch", String(batch), "--threads", "1,2", "--warmup", String(plan.warmup), "--steps", String(plan.steps)];
  const run = spawnSync(PYTHON, args, { encoding: "utf8", maxBuffer: 1 << 24 });
  const line = run.stdout.trim().split("\n").pop() ?? "";
  let parsed: { torch: string | null; error?: string; results?: { threads: number; stepMs: number; samplesMs: number[] }[] };
  try {
    parsed = JSON.parse(line);
  } catch {
    return { version: null, note: `torch peer failed (exit ${run.status}): ${run.stderr.trim().split("\n").pop() ?? ""}`, byThreads: new Map() };
  }
  if (parsed.error !== undefined || !parsed.results) return { version: parsed.torch, note: `torch peer: ${parsed.error ?? "no results"}`, byThreads: new Map() };
  const byThreads = new Map(parsed.results.map((r) => [r.threads, { medianMs: r.stepMs, samplesMs: r.samplesMs, warmup: plan.warmup }] as const));
  return { version: parsed.torch, note: null, byThreads };
}

// ---------------------------------------------------------------------------------------------
// A full `mex train` epoch: throughput and peak memory of the process.

const EPOCH_PER_CLASS = 200;
const EPOCH_VAL_PER_CLASS = 20;
const EPOCH_DATA = `fashion_mnist(per_class=${EPOCH_PER_CLASS}, val_per_class=${EPOCH_VAL_PER_CLASS}, test_per_class=10)`;

export interface EpochResult {
  readonly command: string;
  readonly trainExamples: number;
  readonly epochSeconds: number;
  readonly examplesPerSecond: number;
  readonly peakRssMb: number | null;
  readonly peakRssSource: string;
  readonly wallSeconds: number;
}

function timeEpoch(dir: string): EpochResult {
  const out = join(dir, "epoch-run");
  const mexArgs = ["bin/mex.js", "train", "specs/fashion-3exit.mex", "--backend", "wasm", "--set", "train.epochs=1", "--set", `train.data=${EPOCH_DATA}`, "--no-progress", "--out", out];
  const useTime = existsSync("/usr/bin/time");
  const t0 = performance.now();
  const run = useTime ? spawnSync("/usr/bin/time", ["-v", "node", ...mexArgs], { encoding: "utf8" }) : spawnSync("node", mexArgs, { encoding: "utf8" });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (run.status !== 0) throw new Error(`mex train failed (exit ${run.status}):\n${run.stderr}`);
  const metrics = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { seconds: number });
  const epochSeconds = metrics[0]!.seconds;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr);
  const trainExamples = (EPOCH_PER_CLASS - EPOCH_VAL_PER_CLASS) * 10;
  return {
    command: `node ${mexArgs.map((a) => (a.includes(" ") ? `'${a}'` : a)).join(" ")}`,
    trainExamples,
    epochSeconds,
    examplesPerSecond: trainExamples / epochSeconds,
    peakRssMb: rss ? Number(rss[1]) / 1024 : null,
    peakRssSource: rss ? "/usr/bin/time -v (max RSS of the whole process)" : "unavailable (/usr/bin/time missing)",
    wallSeconds,
  };
}

// ---------------------------------------------------------------------------------------------
// Numerical agreement: 1 epoch on wasm and on cpu from the same seed.
// quickstart with its own data (480 training examples, 120 validation, 200 test): a cpu step of
// fashion-3exit takes minutes, so even one batch of it would not fit the few minutes this may take.

const AGREEMENT_SPEC = "specs/quickstart.mex";
const AGREEMENT_OVERRIDES = ["train.epochs=1"];

export interface AgreementResult {
  readonly spec: string;
  readonly overrides: readonly string[];
  readonly exits: readonly string[];
  readonly wasm: { valAcc: number[]; testAcc: number[]; seconds: number };
  readonly cpu: { valAcc: number[]; testAcc: number[]; seconds: number };
  /** Largest |wasm - cpu| over exits and both splits, in percentage points. */
  readonly maxDiffPoints: number;
}

async function agreement(dir: string, log: (s: string) => void): Promise<AgreementResult> {
  const ir = checkSpecFile(AGREEMENT_SPEC, AGREEMENT_OVERRIDES);
  const runOn = async (backend: "wasm" | "cpu") => {
    await initBackend(backend);
    const t0 = performance.now();
    const r = await train(ir, { dir: join(dir, `agreement-${backend}`), events: { log: (l) => log(`  [${backend}] ${l}`) } });
    const seconds = (performance.now() - t0) / 1000;
    log(`  agreement: ${backend} run took ${seconds.toFixed(1)} s`);
    return { valAcc: r.exits.map((e) => e.valAcc), testAcc: r.exits.map((e) => e.testAcc), seconds };
  };
  const wasm = await runOn("wasm");
  const cpu = await runOn("cpu");
  const diffs = [...wasm.valAcc.map((v, i) => Math.abs(v - cpu.valAcc[i]!)), ...wasm.testAcc.map((v, i) => Math.abs(v - cpu.testAcc[i]!))];
  return { spec: AGREEMENT_SPEC, overrides: AGREEMENT_OVERRIDES, exits: ir.exits.map((e) => e.name), wasm, cpu, maxDiffPoints: 100 * Math.max(...diffs) };
}

// ---------------------------------------------------------------------------------------------
// Data-parallel prototype: W worker threads, each with its own wasm backend and model replica,
// run forward+backward on batch/W examples; the main thread averages the gradients and sends the
// mean back; every replica applies the same update with its own optimizer (identical state), so the
// weights stay identical (an all-reduce). Batch-norm statistics are per half, as in PyTorch DDP
// without SyncBatchNorm. Not integrated into the trainer.

interface WorkerInit {
  readonly role: "dp-worker";
  readonly spec: string;
  readonly batch: number;
  readonly seed: number;
}

type ToWorker = { type: "grad" } | { type: "apply"; grads: Float32Array[] } | { type: "stop" };
type FromWorker = { type: "ready" } | { type: "grads"; grads: Float32Array[]; ms: number } | { type: "applied" };

async function workerMain(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  await initBackend("wasm");
  const ir = checkSpecFile(init.spec);
  const model = buildModel(ir, { seed: 0 });
  const optimizer = createOptimizer(ir.train.optimizer);
  const settings = firstStepSettings(ir);
  const { images, labels } = randomBatch(ir, init.batch, init.seed);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  port.on("message", (msg: ToWorker) => {
    if (msg.type === "grad") {
      const t0 = performance.now();
      const x = tf.tensor(images, [labels.length, ...ir.input]);
      const y = tf.tensor1d(labels, "int32");
      const out = lossAndGrads(() => model.apply(x, { training: true }) as tf.Tensor2D[], y, settings, vars);
      const grads = vars.map((v) => out.grads[v.name]!.dataSync() as Float32Array);
      tf.dispose([x, y, out.total, out.classification, out.distillation, ...(out.confidence ? [out.confidence] : []), ...Object.values(out.grads)]);
      const reply: FromWorker = { type: "grads", grads, ms: performance.now() - t0 };
      port.postMessage(reply, grads.map((g) => g.buffer as ArrayBuffer));
    } else if (msg.type === "apply") {
      const named: tf.NamedTensorMap = {};
      vars.forEach((v, i) => (named[v.name] = tf.tensor(msg.grads[i]!, v.shape)));
      optimizer.applyGradients(named);
      // The trainer's overflow check and read-back, as in trainStep.
      tf.tidy(() => tf.addN(model.weights.map((w) => tf.sum(tf.abs(w.read())))).dataSync());
      tf.dispose(Object.values(named));
      port.postMessage({ type: "applied" } satisfies FromWorker);
    } else {
      optimizer.dispose();
      model.dispose();
      port.close();
    }
  });
  port.postMessage({ type: "ready" } satisfies FromWorker);
}

function nextMessage(w: Worker): Promise<FromWorker> {
  return new Promise((res, rej) => {
    const onMsg = (m: FromWorker) => {
      w.off("error", onErr);
      res(m);
    };
    const onErr = (e: Error) => {
      w.off("message", onMsg);
      rej(e);
    };
    w.once("message", onMsg);
    w.once("error", onErr);
  });
}

/**
 * A worker cannot load this .ts file by itself (Node 20 does not pass tsx's loader hooks to workers
 * through execArgv), so it registers tsx's ESM hooks first and then imports this module.
 */
function workerBootstrap(): string {
  const tsxApi = import.meta.resolve("tsx/esm/api");
  return `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
}

export interface DataParallelResult {
  readonly workers: number;
  readonly batch: number;
  readonly medianMs: number;
  /** Median of the slowest worker's forward+backward+download time per step. */
  readonly computeMs: number;
  readonly samplesMs: readonly number[];
}

async function dataParallel(spec: string, workers: number, batch: number, plan: { warmup: number; steps: number }): Promise<DataParallelResult> {
  if (batch % workers !== 0) throw new Error(`batch ${batch} does not split over ${workers} workers`);
  const init = (i: number): WorkerInit => ({ role: "dp-worker", spec, batch: batch / workers, seed: 100 + i });
  const pool = Array.from({ length: workers }, (_, i) => new Worker(workerBootstrap(), { eval: true, workerData: init(i) }));
  try {
    await Promise.all(pool.map(nextMessage));
    const samples: number[] = [];
    const compute: number[] = [];
    for (let s = 0; s < plan.warmup + plan.steps; s++) {
      const t0 = performance.now();
      const replies = pool.map(nextMessage);
      for (const w of pool) w.postMessage({ type: "grad" } satisfies ToWorker);
      const got = (await Promise.all(replies)) as Extract<FromWorker, { type: "grads" }>[];
      const mean = averageGradients(got.map((g) => g.grads));
      const applied = pool.map(nextMessage);
      pool.forEach((w, i) => {
        // The last worker takes ownership of the buffers; the others get copies.
        const grads = i === pool.length - 1 ? mean : mean.map((g) => g.slice());
        w.postMessage({ type: "apply", grads } satisfies ToWorker, grads.map((g) => g.buffer as ArrayBuffer));
      });
      await Promise.all(applied);
      if (s >= plan.warmup) {
        samples.push(performance.now() - t0);
        compute.push(Math.max(...got.map((g) => g.ms)));
      }
    }
    return { workers, batch, medianMs: median(samples), computeMs: median(compute), samplesMs: samples };
  } finally {
    for (const w of pool) w.postMessage({ type: "stop" } satisfies ToWorker);
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/** Element-wise mean of the replicas' gradients (each replica's loss is a mean over its equal share). */
export function averageGradients(replicas: readonly (readonly Float32Array[])[]): Float32Array[] {
  const n = replicas.length;
  return replicas[0]!.map((first, v) => {
    const sum = Float32Array.from(first);
    for (let r = 1; r < n; r++) {
      const g = replicas[r]![v]!;
      for (let i = 0; i < sum.length; i++) sum[i]! += g[i]!;
    }
    if (n > 1) for (let i = 0; i < sum.length; i++) sum[i]! /= n;
    return sum;
  });
}

// ---------------------------------------------------------------------------------------------
// Main: measure, then print a table or one JSON object.

interface SpecRow {
  spec: string;
  batch: number;
  wasmStepMs: number;
  cpuStepMs: number | null;
  torch1StepMs: number | null;
  torch2StepMs: number | null;
  cpuOverWasm: number | null;
  wasmOverTorch1: number | null;
  wasmOverTorch2: number | null;
  steps: { wasm: StepTiming; cpu: StepTiming | null; torch1: StepTiming | null; torch2: StepTiming | null };
  loadAvg: { before: number[]; after: number[] };
  torchNote: string | null;
}

interface Flags {
  json: boolean;
  quick: boolean;
  agreement: boolean;
  workers: boolean;
  cpu: boolean;
  torch: boolean;
  epoch: boolean;
}

function parseFlags(argv: readonly string[]): Flags {
  const known = ["--json", "--quick", "--agreement", "--workers", "--no-cpu", "--no-torch", "--no-epoch"];
  const unknown = argv.filter((a) => !known.includes(a));
  if (unknown.length > 0) throw new Error(`bench: unknown option(s) ${unknown.join(" ")}; known: ${known.join(" ")}`);
  const has = (f: string) => argv.includes(f);
  return { json: has("--json"), quick: has("--quick"), agreement: has("--agreement"), workers: has("--workers"), cpu: !has("--no-cpu"), torch: !has("--no-torch"), epoch: !has("--no-epoch") };
}

const meanOf = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : a / b);
const load = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);

async function measureSpec(plan: StepPlan, flags: Flags, dir: string, log: (s: string) => void): Promise<SpecRow> {
  const ir = checkSpecFile(`specs/${plan.spec}.mex`);
  const before = load();
  log(`${plan.spec}: batch ${BATCH}, load average ${before.join(" ")}`);
  const wasm = await timeSteps(ir, "wasm", plan.wasm, BATCH, log);
  const cpu = flags.cpu ? await timeSteps(ir, "cpu", plan.cpu, BATCH, log) : null;
  const torch = flags.torch ? runTorch(ir, plan.torch, BATCH, dir) : { version: null, note: "skipped (--no-torch)", byThreads: new Map<number, StepTiming>() };
  if (torch.note) log(`  ${torch.note}`);
  const torch1 = torch.byThreads.get(1) ?? null;
  const torch2 = torch.byThreads.get(2) ?? null;
  for (const [t, r] of torch.byThreads) log(`  ${plan.spec} torch ${torch.version} ${t} thread(s): median ${r.medianMs.toFixed(1)} ms`);
  const row: SpecRow = {
    spec: plan.spec,
    batch: BATCH,
    wasmStepMs: wasm.medianMs,
    cpuStepMs: cpu?.medianMs ?? null,
    torch1StepMs: torch1?.medianMs ?? null,
    torch2StepMs: torch2?.medianMs ?? null,
    cpuOverWasm: ratio(cpu?.medianMs ?? null, wasm.medianMs),
    wasmOverTorch1: ratio(wasm.medianMs, torch1?.medianMs ?? null),
    wasmOverTorch2: ratio(wasm.medianMs, torch2?.medianMs ?? null),
    steps: { wasm, cpu, torch1, torch2 },
    loadAvg: { before, after: load() },
    torchNote: torch.note,
  };
  return row;
}

const fmtMs = (x: number | null) => (x === null ? "n/a" : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x.toFixed(1));
const fmtX = (x: number | null) => (x === null ? "n/a" : x >= 100 ? `${x.toFixed(0)}x` : `${x.toFixed(2)}x`);

function printReport(rows: readonly SpecRow[], epoch: EpochResult | null, agree: AgreementResult | null, dp: DataParallelResult[] | null): void {
  // Plain borders when piped (no colour codes in files).
  const style = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
  const table = new Table({ ...style, head: ["spec", "batch", "wasm ms", "cpu ms", "torch1 ms", "torch2 ms", "cpu/wasm", "wasm/torch1", "wasm/torch2", "load avg (1m)"] });
  for (const r of rows) {
    table.push([r.spec, r.batch, fmtMs(r.wasmStepMs), fmtMs(r.cpuStepMs), fmtMs(r.torch1StepMs), fmtMs(r.torch2StepMs), fmtX(r.cpuOverWasm), fmtX(r.wasmOverTorch1), fmtX(r.wasmOverTorch2), `${r.loadAvg.before[0]} -> ${r.loadAvg.after[0]}`]);
  }
  console.log("Median training-step time (forward + backward with multiExitLoss + optimizer update + read-back), warm-up excluded");
  console.log(table.toString());
  const steps = rows.map((r) => `${r.spec}: wasm ${r.steps.wasm.samplesMs.length} (+${r.steps.wasm.warmup} warm-up), cpu ${r.steps.cpu ? `${r.steps.cpu.samplesMs.length} (+${r.steps.cpu.warmup})` : "skipped"}, torch ${r.steps.torch1 ? `${r.steps.torch1.samplesMs.length} (+${r.steps.torch1.warmup})` : "skipped"}`);
  console.log(`steps timed: ${steps.join("; ")}`);
  for (const r of rows) if (r.torchNote) console.log(`${r.spec}: ${r.torchNote}`);
  if (epoch) {
    console.log(`\nFull epoch: ${epoch.command}`);
    console.log(`  timed: metrics.jsonl 'seconds' of epoch 1 = ${epoch.epochSeconds.toFixed(1)} s (${epoch.trainExamples} training examples with augmentation, plus validation of 200 examples); process wall time ${epoch.wallSeconds.toFixed(1)} s`);
    console.log(`  throughput: ${epoch.examplesPerSecond.toFixed(0)} training examples/s`);
    console.log(`  peak RSS: ${epoch.peakRssMb === null ? "n/a" : `${epoch.peakRssMb.toFixed(0)} MB`} (${epoch.peakRssSource})`);
  }
  if (agree) {
    const pct = (xs: number[]) => xs.map((x) => (100 * x).toFixed(1)).join(" / ");
    console.log(`\nAgreement (${agree.spec} --set ${agree.overrides.join(" --set ")}, same seed; exits ${agree.exits.join(" / ")}):`);
    console.log(`  wasm: val ${pct(agree.wasm.valAcc)}  test ${pct(agree.wasm.testAcc)}  (${agree.wasm.seconds.toFixed(0)} s)`);
    console.log(`  cpu:  val ${pct(agree.cpu.valAcc)}  test ${pct(agree.cpu.testAcc)}  (${agree.cpu.seconds.toFixed(0)} s)`);
    console.log(`  max |wasm - cpu| = ${agree.maxDiffPoints.toFixed(1)} points: ${agree.maxDiffPoints <= 1 ? "within" : "NOT within"} 1 point`);
  }
  if (dp) {
    console.log(`\nData-parallel prototype (worker threads on wasm, gradients averaged on the main thread), fashion-3exit, batch ${BATCH}:`);
    for (const d of dp) console.log(`  ${d.workers} worker(s) x ${d.batch / d.workers} examples: median step ${d.medianMs.toFixed(1)} ms (slowest worker's forward+backward ${d.computeMs.toFixed(1)} ms)`);
    const one = meanOf(dp.filter((d) => d.workers === 1 && d.batch === BATCH).map((d) => d.medianMs));
    const two = meanOf(dp.filter((d) => d.workers === 2 && d.batch === BATCH).map((d) => d.medianMs));
    const half = meanOf(dp.filter((d) => d.workers === 1 && d.batch === BATCH / 2).map((d) => d.medianMs));
    if (one !== null && half !== null) console.log(`  one worker, half batch / full batch: ${(half / one).toFixed(2)} (0.5 = time proportional to the batch)`);
    if (one !== null && two !== null) console.log(`  speed-up of 2 workers over 1 (mean of the medians): ${(one / two).toFixed(2)}x`);
  }
  console.log(`\nload average at the end: ${load().join(" ")} (2 cores; other processes share them)`);
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  // With --json, stdout carries exactly one JSON object; progress goes to stderr.
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const dir = mkdtempSync(join(tmpdir(), "mex-bench-"));
  try {
    const plans = flags.quick ? PLANS.filter((p) => p.spec === "fashion-3exit") : PLANS;
    const rows: SpecRow[] = [];
    for (const plan of plans) rows.push(await measureSpec(plan, flags, dir, log));
    let epoch: EpochResult | null = null;
    if (flags.epoch) {
      log(`epoch: mex train fashion-3exit, 1 epoch (load average ${load().join(" ")})`);
      epoch = timeEpoch(dir);
    }
    let dp: DataParallelResult[] | null = null;
    if (flags.workers) {
      dp = [];
      // Alternated, so a change in the machine's load does not favour one configuration. The
      // 1-worker half batch shows how the step time scales with the batch on one core (the best
      // 2 workers could do is that time plus the reduction).
      const configs = [[1, BATCH], [2, BATCH], [1, BATCH / 2]] as const;
      for (const [workers, batch] of [...configs, ...configs]) {
        log(`data-parallel: ${workers} worker(s), batch ${batch} (load average ${load().join(" ")})`);
        dp.push(await dataParallel("specs/fashion-3exit.mex", workers, batch, { warmup: 2, steps: 9 }));
      }
    }
    const agree = flags.agreement ? await agreement(dir, log) : null;
    if (flags.json) {
      const specs = rows.map(({ spec, batch, wasmStepMs, cpuStepMs, torch1StepMs, torch2StepMs, ...rest }) => ({ spec, batch, wasmStepMs, cpuStepMs, torch1StepMs, torch2StepMs, ...rest }));
      process.stdout.write(JSON.stringify({ specs, epoch, agreement: agree, dataParallel: dp, loadAvgEnd: load() }) + "\n");
    } else {
      printReport(rows, epoch, agree, dp);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (!isMainThread && (workerData as WorkerInit | null)?.role === "dp-worker") {
  void workerMain(workerData as WorkerInit);
} else if (runAsScript) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
