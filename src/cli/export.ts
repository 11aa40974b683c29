/**
 * `mex export RUN_DIR|SPEC --onnx OUT.onnx [--opset N] [--early-exit [--thresholds t1,t2,... | --from-eval FILE [--budget MACS]]]`
 *
 * RUN_DIR (a directory with run.json) exports the trained weights; SPEC exports freshly initialised
 * weights (seed = the spec's train seed), for looking at an architecture in Netron. The file is
 * written atomically (temp file + rename) and is byte-identical for the same input and options.
 * Exit codes: 0 written, 1 the spec/run/export failed, 2 usage (bad options, unreadable input, bad target).
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import * as tf from "@tensorflow/tfjs";
import { checkSource } from "../check/index.js";
import { writeDiagnostics } from "../diagnostics/render.js";
import type { ModelIR } from "../ir/model.js";
import { buildModel } from "../backends/tfjs/build.js";
import { extractWeights } from "../backends/tfjs/weights.js";
import {
  chooseFromEval,
  DEFAULT_OPSET,
  exportOnnx,
  MAX_OPSET,
  MIN_OPSET,
  OnnxExportError,
  parseMacs,
  parseThresholds,
  type ChosenPoint,
} from "../backends/onnx/index.js";
import { EXIT, UsageError, writeLine, type Io } from "./io.js";
import { readSpec } from "./check.js";

export interface ExportCliOptions {
  readonly onnx?: string;
  readonly opset: string;
  readonly earlyExit: boolean;
  readonly thresholds?: string;
  readonly fromEval?: string;
  readonly budget?: string;
}

export function registerExport(program: Command, io: Io, setCode: (code: number) => void): void {
  program
    .command("export")
    .description("export a trained run (or a spec with initial weights) to ONNX: all exits, or one early-exit graph")
    .argument("<source>", "run directory (contains run.json) or .mex spec file")
    .option("--onnx <file>", "output .onnx file (required)")
    .option("--opset <n>", `ai.onnx opset, ${MIN_OPSET}..${MAX_OPSET}`, String(DEFAULT_OPSET))
    .option("--early-exit", "one batch-1 graph that stops at the first confident exit (nested If)", false)
    .option("--thresholds <list>", "early exit: max-softmax thresholds t1,t2,... for all exits but the last (off closes an exit)")
    .option("--from-eval <file>", "early exit: thresholds of a `mex eval --format json` report: its highest-top-1 frontier point")
    .option("--budget <macs>", "with --from-eval: instead, the highest-top-1 point with expected MACs <= this (e.g. 2.5M)")
    .action(async (source: string, options: ExportCliOptions) => {
      setCode(await runExport(source, options, io));
    });
}

/** What to export, after validating the options (throws UsageError). */
interface Plan {
  readonly out: string;
  readonly opset: number;
  readonly earlyExit: boolean;
}

export async function runExport(source: string, options: ExportCliOptions, io: Io): Promise<number> {
  const plan = await planExport(options);
  const loaded = await loadSource(source, io);
  if (!loaded) return EXIT.failed;
  const { ir, weights, metadata } = loaded;
  let chosen: ChosenPoint | null = null;
  let thresholds: number[] | null = null;
  if (plan.earlyExit) {
    const names = ir.exits.map((e) => e.name);
    if (options.thresholds !== undefined) {
      const parsed = parseThresholds(options.thresholds, names);
      if (!parsed.ok) throw new UsageError(`--thresholds: ${parsed.error}`);
      thresholds = parsed.value;
    } else {
      const file = options.fromEval!;
      const budget = options.budget === undefined ? null : unwrap("--budget", parseMacs(options.budget));
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        throw new UsageError(`cannot read --from-eval '${file}': ${(error as Error).message}`);
      }
      const result = chooseFromEval(text, names, budget);
      if (!result.ok) {
        writeLine(io.stderr, `mex: --from-eval ${file}: ${result.error}`);
        return EXIT.failed;
      }
      chosen = result.value;
      thresholds = chosen.thresholds;
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = exportOnnx(ir, weights, {
      opset: plan.opset,
      earlyExit: thresholds ? { thresholds } : null,
      producerVersion: packageVersion(),
      metadata: chosen ? { ...metadata, "mex.eval_point": JSON.stringify({ rule: chosen.rule, top1: chosen.top1, expectedMacs: chosen.expectedMacs }) } : metadata,
    });
  } catch (error) {
    if (!(error instanceof OnnxExportError)) throw error;
    writeLine(io.stderr, `mex: cannot export ${ir.name} to ONNX: ${error.message}`);
    return EXIT.failed;
  }
  try {
    await writeAtomic(plan.out, bytes);
  } catch (error) {
    writeLine(io.stderr, `mex: cannot write '${plan.out}': ${describeFsError(error)}`);
    return EXIT.failed;
  }
  writeLine(io.stdout, summaryLine(plan, ir, bytes.length, thresholds, chosen));
  return EXIT.ok;
}

async function planExport(options: ExportCliOptions): Promise<Plan> {
  if (!options.onnx) throw new UsageError("--onnx <file> is required", "e.g. mex export runs/fashion3 --onnx fashion3.onnx");
  const opset = Number(options.opset);
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UsageError(`--opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}; got '${options.opset}'`);
  }
  const early = options.earlyExit;
  if (!early) {
    for (const [flag, value] of [["--thresholds", options.thresholds], ["--from-eval", options.fromEval], ["--budget", options.budget]] as const) {
      if (value !== undefined) throw new UsageError(`${flag} only applies to --early-exit`, "add --early-exit, or drop the option to export every exit's logits");
    }
  } else {
    if (options.thresholds !== undefined && options.fromEval !== undefined) throw new UsageError("give either --thresholds or --from-eval, not both");
    if (options.thresholds === undefined && options.fromEval === undefined) {
      throw new UsageError("--early-exit needs thresholds", "pass --thresholds t1,t2,... or --from-eval EVAL.json (from mex eval --format json)");
    }
    if (options.budget !== undefined && options.fromEval === undefined) throw new UsageError("--budget chooses a point of --from-eval; it needs --from-eval");
  }
  const out = resolve(options.onnx);
  const target = await stat(out).catch(() => null);
  if (target?.isDirectory()) throw new UsageError(`--onnx '${options.onnx}' is a directory; give a file name`, `e.g. ${join(options.onnx, "model.onnx")}`);
  const parent = await stat(dirname(out)).catch(() => null);
  if (!parent) throw new UsageError(`--onnx '${options.onnx}': the directory ${dirname(out)} does not exist`);
  if (!parent.isDirectory()) throw new UsageError(`--onnx '${options.onnx}': ${dirname(out)} is not a directory`);
  return { out, opset, earlyExit: early };
}

interface Loaded {
  readonly ir: ModelIR;
  readonly weights: ReturnType<typeof extractWeights>;
  readonly metadata: Record<string, string>;
}

/** A run directory (trained weights) or a spec (initial weights); null after printing why it failed. */
async function loadSource(source: string, io: Io): Promise<Loaded | null> {
  const info = await stat(source).catch(() => null);
  if (!info) throw new UsageError(`cannot read '${source}': no such file or directory`);
  await tf.setBackend("cpu");
  if (info.isDirectory()) {
    if (!existsSync(join(source, "run.json"))) throw new UsageError(`'${source}' is a directory without run.json: not a run directory`, "pass a run directory written by mex train, or a .mex spec");
    // Imported on demand: the trainer's modules are only needed for run directories.
    const { loadRun } = await import("../run/load.js");
    try {
      const { ir, model, run } = await loadRun(source);
      const weights = extractWeights(model);
      model.dispose();
      return { ir, weights, metadata: { "mex.weights": "trained", "mex.run_status": run.status, ...(run.bestEpoch !== undefined ? { "mex.best_epoch": String(run.bestEpoch) } : {}) } };
    } catch (error) {
      writeLine(io.stderr, `mex: cannot load run '${source}': ${(error as Error).message}`);
      return null;
    }
  }
  const text = await readSpec(source);
  const checked = checkSource(text, source);
  if (!checked.ir) {
    writeDiagnostics(io.stderr, checked.diagnostics, checked.source);
    writeLine(io.stderr, `mex: ${source} has errors; nothing exported`);
    return null;
  }
  const ir = checked.ir;
  const model = buildModel(ir, { seed: ir.train.seed });
  const weights = extractWeights(model);
  model.dispose();
  return { ir, weights, metadata: { "mex.weights": `initialised (seed ${ir.train.seed}, untrained)` } };
}

/** Write to a temp file next to the target, then rename over it (readers never see a partial file). */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  if (code === "ENOENT") return "the directory does not exist";
  if (code === "EROFS") return "read-only file system";
  return (error as Error).message;
}

function unwrap<T>(flag: string, result: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!result.ok) throw new UsageError(`${flag}: ${result.error}`);
  return result.value;
}

function summaryLine(plan: Plan, ir: ModelIR, size: number, thresholds: readonly number[] | null, chosen: ChosenPoint | null): string {
  const exits = ir.exits.map((e) => e.name).join(", ");
  const head = `wrote ${plan.out} (${size} bytes, opset ${plan.opset})`;
  if (!thresholds) return `${head}: ${ir.name}, outputs ${ir.exits.map((e) => `logits_${e.name}`).join(", ")}`;
  const shown = ir.exits.map((e, m) => `${e.name}>=${Number.isFinite(thresholds[m]!) ? thresholds[m] : "closed"}`).join(" ");
  const from = chosen ? `; eval point: ${chosen.rule}: top-1 ${chosen.top1}, expected MACs ${Math.round(chosen.expectedMacs)}` : "";
  return `${head}: ${ir.name} early exit over ${exits} (batch 1), thresholds ${shown}${from}; outputs probs, exit_index`;
}

/** mex's version from its package.json (found upwards from this module, in src/ and in dist/). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "mex" && pkg.version) return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) return "unknown";
    dir = up;
  }
}
