/**
 * Reproduces the paper's central claim on Fashion-MNIST with mex itself (`mex train`, `mex eval`):
 * exit-wise (EW) vs distillation (D) training of the fashion-3exit network, same everything else
 * (adaptive temperature mu=0.5 factor=1.05, C=0.5, the spec's optimizer and schedule, 30 epochs,
 * model selection on validation), at several labeled-data sizes, several seeds each (every seed draws a
 * new subset and a new initialisation).
 *
 *   npm run experiment:paper                 # the full grid (see SETTINGS), resumable: finished runs are kept
 *   npm run experiment:paper -- --quick      # 1 seed, 60 images per class only; table in <out>/quick-results
 *   options: --jobs N (parallel trainings; default 2 = both cores), --out DIR, --epochs N (default 30)
 *
 * Writes experiments/paper-claim/results/{results.json,table.md,accuracy-vs-macs.svg,.png} and docs/results.md.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { plotSvg, svgToPng } from "../../src/eval/index.js";
import type { AnytimeRow } from "../../src/eval/index.js";

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
let MEX = join(ROOT, "bin/mex.js");

interface Setting {
  readonly id: string;
  readonly label: string;
  /** Value of train.data. */
  readonly data: string;
  readonly methods: readonly Method[];
  readonly seeds: number;
  /** Epochs for this setting when it differs from --epochs (the full set under a time limit). */
  readonly epochs?: number;
  /** Value of train.schedule when it differs from the spec's. */
  readonly schedule?: string;
}

type Method = "EW" | "D" | "D+unlabeled";

const SPEC: Record<Method, string> = { EW: "exitwise.mex", D: "distill.mex", "D+unlabeled": "distill.mex" };

interface Args {
  quick: boolean;
  jobs: number;
  out: string;
  epochs: number;
  fullSeeds: number;
  /** Epochs of the full-training-set runs (default: --epochs). */
  fullEpochs: number | null;
  /** Setting ids to run (all when empty). */
  only: string[];
  /** Only summarise the runs that have completed (e.g. when a time limit cut the grid short). */
  reportOnly: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, jobs: 2, out: join(HERE, "runs"), epochs: 30, fullSeeds: 1, fullEpochs: null, only: [], reportOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") args.quick = true;
    else if (a === "--jobs") args.jobs = Math.max(1, Number(value()));
    else if (a === "--out") args.out = resolve(value());
    else if (a === "--epochs") args.epochs = Number(value());
    else if (a === "--full-seeds") args.fullSeeds = Number(value());
    else if (a === "--only") args.only = value().split(",");
    else if (a === "--full-epochs") args.fullEpochs = Number(value());
    else if (a === "--report-only") args.reportOnly = true;
    // A frozen copy of the CLI, so rebuilding dist/ during a long experiment cannot disturb it.
    else if (a === "--mex") MEX = resolve(value());
    else throw new Error(`unknown option ${a} (options: --quick, --jobs N, --out DIR, --epochs N, --full-seeds N, --only 60,150,60+u400,60-steps,full, --full-epochs N, --mex PATH, --report-only)`);
  }
  return args;
}

function settings(args: Args): Setting[] {
  const small: Setting = { id: "60", label: "60 per class (50 train + 10 val)", data: "fashion_mnist(per_class=60, val_per_class=10)", methods: ["EW", "D"], seeds: 5 };
  if (args.quick) return [{ ...small, seeds: 1 }];
  return [
    small,
    { id: "150", label: "150 per class (100 train + 50 val)", data: "fashion_mnist(per_class=150, val_per_class=50)", methods: ["EW", "D"], seeds: 5 },
    { id: "60+u400", label: "60 per class + 400 unlabeled per class", data: "fashion_mnist(per_class=60, val_per_class=10, unlabeled_per_class=400)", methods: ["D+unlabeled"], seeds: 5 },
    stepMatched(args),
    {
      id: "full",
      label: `full training set (val 500 per class)${args.fullEpochs !== null && args.fullEpochs !== args.epochs ? `, ${args.fullEpochs} epochs` : ""}`,
      data: "fashion_mnist(val_per_class=500)",
      methods: ["EW", "D"],
      seeds: args.fullSeeds,
      ...(args.fullEpochs !== null ? { epochs: args.fullEpochs } : {}),
    },
  ];
}

/** Batches per epoch of the paper-claim specs (batch 64) for `examples` training examples. */
const batchesPerEpoch = (examples: number) => Math.ceil(examples / 64);

/**
 * Control for the semi-supervised row: distillation on the same 60 labeled images per class for as
 * many SGD steps as the 60+u400 runs take (their epoch covers labeled + unlabeled images, 9x the
 * steps), milestones at the same fractions of training. Without it a semi-supervised gain could be
 * just the longer training. EW at the same length tells whether the distillation gain survives
 * training to convergence (30 epochs of 60 images per class are only 240 steps).
 */
function stepMatched(args: Args): Setting {
  const labeled = 10 * 50;
  const withUnlabeled = 10 * (50 + 400);
  const steps = args.epochs * batchesPerEpoch(withUnlabeled);
  const epochs = Math.round(steps / batchesPerEpoch(labeled));
  const milestones = [15, 22].map((m) => Math.round((m / 30) * epochs));
  return {
    id: "60-steps",
    label: `60 per class, as many steps as 60+u400 (${epochs} epochs, milestones [${milestones.join(", ")}])`,
    data: "fashion_mnist(per_class=60, val_per_class=10)",
    methods: ["EW", "D"],
    seeds: 5,
    epochs,
    schedule: `multistep(milestones=[${milestones.join(", ")}], gamma=0.1)`,
  };
}

interface Job {
  readonly setting: Setting;
  readonly method: Method;
  readonly seed: number;
  readonly dir: string;
}

interface RunSummary {
  readonly setting: string;
  readonly method: Method;
  readonly seed: number;
  readonly testTop1: number[];
  readonly valTop1: number[];
  readonly bestEpoch: number;
  readonly seconds: number;
  readonly finalTau: number | null;
}

async function completed(dir: string): Promise<boolean> {
  if (!existsSync(join(dir, "run.json"))) return false;
  const info = JSON.parse(await readFile(join(dir, "run.json"), "utf8")) as { status: string };
  return info.status === "completed";
}

async function trainJob(job: Job, args: Args): Promise<void> {
  if (await completed(job.dir)) return;
  const resume = existsSync(join(job.dir, "checkpoint")) || existsSync(join(job.dir, "checkpoint.prev"));
  const cli = [
    MEX, "train", join(HERE, SPEC[job.method]), "--out", job.dir, "--no-progress",
    "--set", `train.data=${job.setting.data}`, "--set", `train.seed=${job.seed}`, "--set", `train.epochs=${job.setting.epochs ?? args.epochs}`,
    ...(job.setting.schedule ? ["--set", `train.schedule=${job.setting.schedule}`] : []),
    ...(resume ? ["--resume"] : []),
  ];
  const started = Date.now();
  await run(process.execPath, cli, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  log(`done ${relative(ROOT, job.dir)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Runs jobs with at most `limit` at once (one training per core). */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function summarise(job: Job): Promise<RunSummary> {
  const info = JSON.parse(await readFile(join(job.dir, "run.json"), "utf8")) as {
    results: { testAcc: number; valAcc: number }[];
    bestEpoch: number;
  };
  const metrics = (await readFile(join(job.dir, "metrics.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { seconds: number; tau: number });
  return {
    setting: job.setting.id,
    method: job.method,
    seed: job.seed,
    testTop1: info.results.map((r) => r.testAcc),
    valTop1: info.results.map((r) => r.valAcc),
    bestEpoch: info.bestEpoch,
    seconds: metrics.reduce((s, m) => s + m.seconds, 0),
    finalTau: job.method === "EW" ? null : metrics[metrics.length - 1]!.tau,
  };
}

/** Mean and 1.96 standard errors (0 for a single seed). */
function meanCi(values: readonly number[]): { mean: number; ci: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, ci: 0 };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { mean, ci: 1.96 * Math.sqrt(variance / n) };
}

const pct = (x: number) => (100 * x).toFixed(1);

function table(summaries: readonly RunSummary[], plan: readonly Setting[], exits: readonly { name: string; cumulativeMacs: number }[]): string {
  const lines = [
    `| data | exit (MACs) | ${["EW", "D", "D+unlabeled"].map((m) => `${m} top-1 %`).join(" | ")} | D - EW | seeds |`,
    "|---|---|---|---|---|---|---|",
  ];
  for (const setting of plan) {
    const of = (method: Method) => summaries.filter((s) => s.setting === setting.id && s.method === method);
    const ew = of("EW");
    const d = of("D");
    const du = of("D+unlabeled");
    exits.forEach((exit, m) => {
      const cell = (runs: RunSummary[]) => (runs.length === 0 ? "-" : (({ mean, ci }) => `${pct(mean)} ± ${pct(ci)}`)(meanCi(runs.map((r) => r.testTop1[m]!))));
      let diff = "-";
      if (ew.length > 0 && d.length > 0) {
        // Paired by seed: both methods see the same subset and initialisation for a seed.
        const pairs = d.filter((r) => ew.some((e) => e.seed === r.seed)).map((r) => r.testTop1[m]! - ew.find((e) => e.seed === r.seed)!.testTop1[m]!);
        const { mean, ci } = meanCi(pairs);
        diff = `${mean >= 0 ? "+" : ""}${pct(mean)} ± ${pct(ci)}`;
      }
      const seeds = Math.max(ew.length, d.length, du.length);
      lines.push(`| ${m === 0 ? setting.label : ""} | ${exit.name} (${(exit.cumulativeMacs / 1e6).toFixed(2)}M) | ${cell(ew)} | ${cell(d)} | ${cell(du)} | ${diff} | ${seeds} |`);
    });
  }
  return lines.join("\n");
}

/** Short legend names for the settings. */
function plotName(id: string): string {
  if (id === "full") return "full set";
  if (id === "60-steps") return "60/class, step-matched";
  return `${id}/class`;
}

async function plot(summaries: readonly RunSummary[], plan: readonly Setting[], exits: readonly { name: string; cumulativeMacs: number }[], outDir: string): Promise<string[]> {
  const runs = plan.flatMap((setting) =>
    setting.methods
      .map((method) => {
        const group = summaries.filter((s) => s.setting === setting.id && s.method === method);
        if (group.length === 0) return null;
        const anytime: AnytimeRow[] = exits.map((exit, m) => {
          const top1 = meanCi(group.map((g) => g.testTop1[m]!)).mean;
          return { exit: exit.name, exitIndex: m, macs: exit.cumulativeMacs, top1, top5: top1, ensembleTop1: top1, ensembleTop5: top1 } as unknown as AnytimeRow;
        });
        return { label: `${method}, ${plotName(setting.id)}`, anytime, dynamicFrontier: [] };
      })
      .filter((r): r is NonNullable<typeof r> => r !== null),
  );
  const svg = await plotSvg(runs, { title: "Fashion-MNIST, fashion-3exit: test top-1 per exit (mean over seeds)" });
  const svgPath = join(outDir, "accuracy-vs-macs.svg");
  const pngPath = join(outDir, "accuracy-vs-macs.png");
  await writeFile(svgPath, svg);
  await writeFile(pngPath, svgToPng(svg));
  return [svgPath, pngPath];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = settings(args).filter((s) => args.only.length === 0 || args.only.includes(s.id));
  const jobs: Job[] = plan.flatMap((setting) =>
    setting.methods.flatMap((method) =>
      Array.from({ length: setting.seeds }, (_, seed) => ({ setting, method, seed, dir: join(args.out, setting.id, method, `seed${seed}`) })),
    ),
  );
  // Cheapest first, so a time-limited session finishes whole settings before the expensive ones.
  const started = Date.now();
  log(`${jobs.length} trainings, ${args.jobs} at a time, ${args.epochs} epochs each`);
  if (!args.reportOnly) await pool(jobs, args.jobs, (job) => trainJob(job, args));
  const wall = (Date.now() - started) / 1000;

  const done: Job[] = [];
  for (const job of jobs) if (await completed(job.dir)) done.push(job);
  if (done.length < jobs.length) log(`reporting ${done.length} of ${jobs.length} planned runs (the others have not completed)`);
  if (done.length === 0) throw new Error("no completed runs to report yet");
  const summaries = await Promise.all(done.map(summarise));
  const spec = JSON.parse(await readFile(join(done[0]!.dir, "run.json"), "utf8")) as { exits: { name: string; cumulativeMacs: number }[] };
  // --quick is a smoke run: its table must not replace the committed results of the full grid.
  const resultsDir = args.quick ? join(args.out, "quick-results") : join(HERE, "results");
  await mkdir(resultsDir, { recursive: true });
  const md = table(summaries, plan, spec.exits);
  const [svgPath, pngPath] = await plot(summaries, plan, spec.exits, resultsDir);
  const trainSeconds = summaries.reduce((s, r) => s + r.seconds, 0);
  await writeFile(join(resultsDir, "results.json"), `${JSON.stringify({ args, wallSeconds: wall, summaries }, null, 2)}\n`);
  await writeFile(join(resultsDir, "table.md"), `${md}\n`);
  process.stdout.write(`${md}\n\nwall time ${(wall / 60).toFixed(1)} min (this invocation; finished runs are reused), training time ${(trainSeconds / 60).toFixed(1)} min summed over runs\n`);
  if (!args.quick) await writeDocs(md, wall, trainSeconds, summaries, svgPath!, pngPath!, args, jobs.length);
}

async function writeDocs(md: string, wall: number, trainSeconds: number, summaries: readonly RunSummary[], svgPath: string, pngPath: string, args: Args, planned: number): Promise<void> {
  const docs = join(ROOT, "docs");
  await mkdir(docs, { recursive: true });
  const taus = summaries.filter((s) => s.finalTau !== null).map((s) => s.finalTau!);
  // Interpretation is written by a person for the measured numbers; regenerating keeps it.
  const findingsFile = join(HERE, "findings.md");
  const findings = existsSync(findingsFile) ? `\n${(await readFile(findingsFile, "utf8")).trim()}\n` : "";
  const text = `# Does distillation help the early exits? (Fashion-MNIST, measured with mex)

Generated by \`npm run experiment:paper\` (${args.epochs} epochs per run, ${args.jobs} trainings in parallel) on
${cpus().length} CPU cores (${cpus()[0]?.model ?? "unknown CPU"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version},
tfjs wasm backend with mex's training kernels. Test top-1 accuracy on the full 10,000-image test set,
mean ± 1.96 standard errors over seeds; D - EW is paired by seed (same subset and initialisation).
${summaries.length < planned ? `\n**Incomplete grid:** ${summaries.length} of ${planned} planned runs had finished when this page was written; the seeds column says how many each row averages.\n` : ""}
${md}

![accuracy vs MACs](${relative(docs, pngPath)})

(${relative(docs, svgPath)} is the vector version.)

${findings}
Final temperatures under the adaptive rule: ${taus.length > 0 ? `${Math.min(...taus).toFixed(2)} to ${Math.max(...taus).toFixed(2)}` : "n/a"}.
${args.reportOnly ? "" : `Wall time of the last invocation: ${(wall / 60).toFixed(1)} min; `}Training time summed over all runs: ${(trainSeconds / 60).toFixed(1)} min.

Regenerate: \`npm run experiment:paper${args.fullEpochs !== null ? ` -- --full-epochs ${args.fullEpochs}` : ""}\` (finished runs under experiments/paper-claim/runs are reused;
delete that directory to start over).
`;
  await writeFile(join(docs, "results.md"), text);
}

main().catch((error) => {
  process.stderr.write(`experiment failed: ${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
