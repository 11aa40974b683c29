/** `mex train SPEC [--out DIR] [--set key=value]... [--backend auto|node|wasm|cpu] [--resume] [--data DIR]` */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import cliProgress from "cli-progress";
import Table from "cli-table3";
import type { Command } from "commander";
import { checkSource } from "../check/index.js";
import { applyOverrides, OverrideError, parseOverride } from "../check/overrides.js";
import { formatCount } from "../check/model.js";
import { writeDiagnostics } from "../diagnostics/render.js";
import type { ModelIR } from "../ir/model.js";
import { DataError } from "../data/errors.js";
import { BackendUnavailableError, initBackend, type BackendChoice } from "../backends/tfjs/backend.js";
import { describeRun, readRunInfo, writeRunInfo, SPEC_FILE, type RunInfo } from "../run/info.js";
import { NumericalError, train, type EpochMetrics, type TrainEvents, type TrainResult } from "../train/trainer.js";
import { CheckpointError } from "../train/checkpoint.js";
import { choice, EXIT, UsageError, writeLine, type Io } from "./io.js";
import { readSpec } from "./check.js";
import { limitsFromOptions, LIMIT_OPTIONS } from "./limits.js";
import { version } from "./version.js";

export const BACKENDS = ["auto", "node", "wasm", "cpu"] as const;

export function registerTrain(program: Command, io: Io, setCode: (code: number) => void): void {
  const command = program
    .command("train")
    .description("train a spec with the distillation objective and write a run directory")
    .argument("<spec>", ".mex spec file")
    .option("-o, --out <dir>", "run directory (default: the spec's train.out, else runs/<spec name>)")
    .option("-s, --set <key=value>", "override a spec option, e.g. train.epochs=1 (repeatable)", collect, [] as string[])
    .option("-b, --backend <backend>", `tfjs backend: ${BACKENDS.join(", ")}`, "auto")
    .option("--resume", "continue from the run directory's last complete checkpoint", false)
    .option("--data <dir>", "read IDX data from this directory instead of the spec's")
    .option("--no-progress", "print one line per epoch instead of a progress bar");
  for (const option of LIMIT_OPTIONS) command.option(option.flags, option.description, option.default);
  command.action(async (spec: string, options: Record<string, unknown>) => {
    setCode(await runTrain(spec, options, io));
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runTrain(specFile: string, options: Record<string, unknown>, io: Io): Promise<number> {
  const backendChoice = choice("--backend", String(options.backend), BACKENDS);
  const overrides = (options.set as string[]).map((raw) => {
    try {
      return parseOverride(raw);
    } catch (error) {
      if (error instanceof OverrideError) throw new UsageError(error.message);
      throw error;
    }
  });
  const original = await readSpec(specFile);
  const text = applyOverrides(original, overrides);
  const checked = checkSource(text, overrides.length > 0 ? `${specFile} (with --set)` : specFile, {
    limits: limitsFromOptions(options),
    overridden: new Set(overrides.map((o) => `${o.section}.${o.option}`)),
  });
  writeDiagnostics(io.stderr, checked.diagnostics, checked.source);
  if (!checked.ir) return EXIT.failed;
  const ir = checked.ir;
  const dir = resolve(String(options.out ?? ir.train.out ?? join("runs", basename(specFile, extname(specFile)))));

  // Decide about an existing run before writing anything into its directory.
  const previous = existsSync(join(dir, "run.json")) ? await readRunInfo(dir).catch(() => null) : null;
  if (!options.resume && previous && previous.status !== "completed") {
    throw new UsageError(`${dir} holds an unfinished run (${previous.status})`, "continue it with --resume, or choose another --out");
  }
  if (options.resume && previous && previous.specHash !== ir.sourceHash) {
    writeLine(io.stderr, `mex: cannot resume ${dir}: it was trained from a different spec (hash ${previous.specHash.slice(0, 12)}, now ${ir.sourceHash.slice(0, 12)})`);
    writeLine(io.stderr, "hint: resume with the same spec and --set options, or train into another --out");
    return EXIT.failed;
  }
  let backend;
  try {
    backend = await initBackend(backendChoice);
  } catch (error) {
    if (error instanceof BackendUnavailableError) throw new UsageError(error.message);
    throw error;
  }
  writeLine(io.stderr, `backend: ${backend.name} (${backend.reason})`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, SPEC_FILE), ir.source);
  let info: RunInfo = { ...describeRun(ir, specFile, overrides.map((o) => o.raw), backend, version()) };
  if (options.resume && previous) info = { ...info, started: previous.started };
  await writeRunInfo(dir, info);
  writeLine(io.stderr, `run: ${dir}`);

  const reporter = progressReporter(ir, io, options.progress !== false && Boolean(io.stderr.isTTY));
  let result: TrainResult;
  try {
    result = await train(ir, { dir, resume: Boolean(options.resume), ...(options.data ? { dataDir: String(options.data) } : {}), events: reporter.events });
  } catch (error) {
    reporter.stop();
    const known = error instanceof NumericalError || error instanceof DataError || error instanceof CheckpointError;
    await writeRunInfo(dir, { ...info, status: "failed", error: (error as Error).message, finished: new Date().toISOString() });
    if (!known) throw error;
    writeLine(io.stderr, `mex: ${(error as Error).message}`);
    if (error instanceof NumericalError) writeLine(io.stderr, "hint: lower the learning rate (optimizer lr) or add batch norm; the run directory keeps the last good checkpoint");
    return EXIT.failed;
  }
  reporter.stop();
  await writeRunInfo(dir, {
    ...info,
    status: result.completed ? "completed" : "stopped",
    data: undefined,
    finished: new Date().toISOString(),
    bestEpoch: result.bestEpoch,
    results: result.exits,
  });
  if (result.completed) writeLine(io.stdout, resultTable(ir, result));
  return EXIT.ok;
}

/** Progress bar on a terminal; one line per epoch otherwise (CI logs). */
function progressReporter(ir: ModelIR, io: Io, bar: boolean): { events: TrainEvents; stop(): void } {
  const epochs = ir.train.epochs;
  let progress: cliProgress.SingleBar | null = null;
  const line = (m: EpochMetrics) =>
    `epoch ${m.epoch}/${epochs}  loss ${m.loss.toFixed(4)} (cls ${m.classification.toFixed(4)}, dist ${m.distillation.toFixed(4)})  tau ${m.tau.toFixed(3)}  lr ${m.lr.toPrecision(3)}  val ${m.val_acc.map((a) => (100 * a).toFixed(1)).join("/")}%  ${m.seconds.toFixed(1)}s`;
  const events: TrainEvents = {
    log: (text) => {
      progress?.stop();
      writeLine(io.stderr, text);
    },
    epochStart: (epoch, batches) => {
      if (!bar) return;
      progress = new cliProgress.SingleBar(
        { format: `epoch ${epoch + 1}/${epochs} [{bar}] {value}/{total}  loss {loss}  tau {tau}`, stream: io.stderr as NodeJS.WriteStream, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      progress.start(batches, 0, { loss: "-", tau: "-" });
    },
    batchEnd: (_epoch, batch, info) => progress?.update(batch + 1, { loss: info.loss.toFixed(4), tau: info.tau.toFixed(3) }),
    epochEnd: (m) => {
      progress?.stop();
      progress = null;
      writeLine(io.stderr, line(m));
    },
  };
  return { events, stop: () => progress?.stop() };
}

function resultTable(ir: ModelIR, result: TrainResult): string {
  const table = new Table({ head: ["exit", "after", "cumulative MACs", "of last", "val top-1", "test top-1"], colAligns: ["left", "left", "right", "right", "right", "right"], style: { head: [], border: [] } });
  ir.exits.forEach((exit, m) => {
    const r = result.exits[m]!;
    table.push([exit.name, exit.after, formatCount(exit.cumulativeMacs), `${(100 * exit.fraction).toFixed(1)}%`, `${(100 * r.valAcc).toFixed(2)}%`, `${(100 * r.testAcc).toFixed(2)}%`]);
  });
  return `best epoch ${result.bestEpoch} of ${result.epochs} (mean validation accuracy over exits)\n${table.toString()}`;
}
