/**
 * `mex eval` end to end on real run directories: the JSON shape, text and Markdown tables, several
 * runs, plots, the extra queries, --measure, and the error exits. Most cases run the subcommand
 * in-process through commander (registerEval, as main does); one group runs the real binary.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Command, CommanderError } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../helpers/cli.js";
import { registerEval } from "../../src/cli/eval.js";
import { EXIT, UsageError, type Io } from "../../src/cli/io.js";
import { accuracyAtBudget, macsForAccuracy } from "../../src/eval/dynamic.js";
import { X_TITLE, Y_TITLE } from "../../src/eval/plot.js";
import { initBackend } from "../../src/backends/tfjs/backend.js";
import { copyRun, ROOT, specText, trainedRun, untrainedRun } from "./fixtures.js";

let tmp: string;
let run: string; // quickstart, 1 epoch, distilled
let exitWise: string; // the same, distill weight 0

beforeAll(async () => {
  await initBackend("auto");
  tmp = mkdtempSync(join(tmpdir(), "mex-eval-"));
  run = join(tmp, "distilled");
  exitWise = join(tmp, "exitwise");
  await trainedRun(run, specText("quickstart.mex", (s) => s.replace(/epochs: \d+/, "epochs: 1")));
  await trainedRun(exitWise, specText("quickstart.mex", (s) => s.replace(/epochs: \d+/, "epochs: 1").replace("weight: 0.5", "weight: 0")));
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** `mex eval ...args` in-process: exit code and captured output, with main's handling of errors. */
async function mexEval(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const io: Io = { stdout, stderr };
  let code: number = EXIT.ok;
  const program = new Command("mex").exitOverride().configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });
  registerEval(program, io, (c) => (code = c));
  try {
    await program.parseAsync(["eval", ...args], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    else if (error instanceof UsageError) {
      stderr.write(`mex: ${error.message}\n`);
      code = EXIT.usage;
    } else throw error;
  }
  return { code, stdout: stdout.text, stderr: stderr.text };
}

type Json = Record<string, any>;

describe("mex eval --format json (one run)", () => {
  let json: Json;
  beforeAll(async () => {
    const r = await mexEval(run, "--format", "json", "--at-macs", "60K", "--target-acc", "0.5");
    expect(r.code).toBe(0);
    json = JSON.parse(r.stdout);
  });

  it("has the issue's keys, in order, with accuracies as fractions", () => {
    expect(Object.keys(json).slice(0, 4)).toEqual(["exits", "anytime", "budget", "dynamic"]);
    expect(json.exits.map((e: Json) => e.name)).toEqual(["e1", "e2", "e3"]);
    // quickstart MACs, as `mex inspect` reports them
    expect(json.exits.map((e: Json) => e.macs)).toEqual([27680, 92224, 166016]);
    for (const row of json.anytime) {
      expect(Object.keys(row)).toEqual(expect.arrayContaining(["exit", "top1", "top5", "ensembleTop1"]));
      for (const k of ["top1", "top5", "ensembleTop1"]) expect(row[k]).toBeGreaterThanOrEqual(0), expect(row[k]).toBeLessThanOrEqual(1);
    }
    // 4 classes: top-5 is always right
    expect(json.anytime.map((r: Json) => r.top5)).toEqual([1, 1, 1]);
    // default budgets: each exit's cumulative MACs
    expect(json.budget.map((b: Json) => b.budgetMacs)).toEqual([27680, 92224, 166016]);
    for (const b of json.budget) expect(Object.keys(b)).toEqual(expect.arrayContaining(["budgetMacs", "exit", "top1"]));
    // 39 geometric + 21 shared-threshold points
    expect(json.dynamic).toHaveLength(60);
    for (const p of json.dynamic) {
      expect(Object.keys(p)).toEqual(expect.arrayContaining(["thresholds", "expectedMacs", "top1", "exitFractions"]));
      expect(p.thresholds).toHaveLength(3);
      expect(p.thresholds[2]).toBe(0);
      expect(p.exitFractions.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it("prices a dynamic point with the path cost (backbone + every head asked) from the IR", () => {
    const cost = json.exits.map((e: Json) => e.costIfStopAt);
    // e1 alone 27680; e2 = backbone to s2 + heads e1, e2 = 92224 + (27680 - 18432); e3 likewise adds e2's head
    expect(cost[0]).toBe(27680);
    expect(cost[1]).toBe(92224 + 27680 - 18432);
    expect(json.dynamicCostModel).toBe("path");
    for (const p of json.dynamic) {
      const expected = p.exitFractions.reduce((a: number, f: number, m: number) => a + f * cost[m], 0);
      expect(p.expectedMacs).toBeCloseTo(expected, 6);
    }
  });

  it("the frontier is monotone: more MACs, more accuracy", () => {
    const frontier = json.dynamic.filter((p: Json) => p.onFrontier).sort((a: Json, b: Json) => a.expectedMacs - b.expectedMacs);
    expect(frontier.length).toBeGreaterThan(0);
    for (let i = 1; i < frontier.length; i++) {
      expect(frontier[i].expectedMacs).toBeGreaterThan(frontier[i - 1].expectedMacs);
      expect(frontier[i].top1).toBeGreaterThan(frontier[i - 1].top1);
    }
  });

  it("--at-macs and --target-acc interpolate on that frontier", () => {
    const frontier = json.dynamic.filter((p: Json) => p.onFrontier).sort((a: Json, b: Json) => a.expectedMacs - b.expectedMacs);
    expect(json.atMacs).toEqual({ macs: 60000, top1: accuracyAtBudget(frontier, 60000) });
    expect(json.targetAcc).toEqual({ top1: 0.5, macs: macsForAccuracy(frontier, 0.5) });
  });
});

describe("mex eval: modes, splits and formats", () => {
  it("--mode anytime keeps only exits and anytime in JSON", async () => {
    const r = await mexEval(run, "--format", "json", "--mode", "anytime");
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(["exits", "anytime"]);
  });

  it("--split val reports anytime on validation (thresholds still from val, applied to test)", async () => {
    const val = JSON.parse((await mexEval(run, "--format", "json", "--split", "val")).stdout);
    const test = JSON.parse((await mexEval(run, "--format", "json", "--mode", "anytime")).stdout);
    // Budget rows choose on val (= the val anytime accuracy of the chosen exit) and report test.
    for (const b of val.budget) {
      expect(b.valTop1).toBe(val.anytime[b.exitIndex].top1);
      expect(b.top1).toBe(test.anytime[b.exitIndex].top1);
    }
    // Dynamic points are identical whichever split the anytime table shows.
    expect(val.dynamic).toEqual(JSON.parse((await mexEval(run, "--format", "json", "--mode", "dynamic")).stdout).dynamic);
    const text = (await mexEval(run, "--split", "val", "--mode", "anytime")).stdout;
    expect(text).toContain("Anytime (val)");
  });

  it("text output has the three tables and the cost note", async () => {
    const r = await mexEval(run);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Anytime (test): each exit alone");
    expect(r.stdout).toContain("Budget: the exit with the best validation top-1");
    expect(r.stdout).toContain("Dynamic early exit, Pareto frontier");
    expect(r.stdout).toContain("backbone to stage(m) + heads of exits 1..m");
    expect(r.stdout).toMatch(/│ e1\s+│\s+27\.7K │/);
  });

  it("--format md gives GitHub tables", async () => {
    const r = await mexEval(run, "--format", "md", "--at-macs", "50K");
    expect(r.stdout).toContain("**Anytime (test): each exit alone");
    expect(r.stdout).toContain("| exit | MACs | top-1 % | top-5 % | ens top-1 % | ens top-5 % |");
    expect(r.stdout).toContain("|---|---:|---:|---:|---:|---:|");
    expect(r.stdout).toMatch(/^- top-1 at 50K MACs per example/m);
  });

  it("--budgets picks exits within each budget", async () => {
    const json = JSON.parse((await mexEval(run, "--format", "json", "--mode", "budget", "--budgets", "10K,30000,1M")).stdout);
    expect(json.budget.map((b: Json) => b.budgetMacs)).toEqual([10000, 30000, 1e6]);
    // nothing fits 10K; only e1 fits 30000
    expect(json.budget[0].exit).toBeNull();
    expect(json.budget[1].exit).toBe("e1");
  });
});

describe("mex eval with several runs", () => {
  it("JSON: {runs: [...]} labelled by model and training kind", async () => {
    const r = await mexEval(run, exitWise, "--format", "json");
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json)).toEqual(["runs"]);
    expect(json.runs.map((x: Json) => x.run)).toEqual(["quickstart (distilled)", "quickstart (exit-wise)"]);
    for (const x of json.runs) expect(Object.keys(x).slice(0, 5)).toEqual(["run", "exits", "anytime", "budget", "dynamic"]);
  });

  it("falls back to directory names when model and kind do not tell runs apart", async () => {
    const copy = join(tmp, "copy-of-distilled");
    copyRun(run, copy);
    const json = JSON.parse((await mexEval(run, copy, "--format", "json", "--mode", "anytime")).stdout);
    expect(json.runs.map((x: Json) => x.run)).toEqual(["distilled", "copy-of-distilled"]);
    expect(json.runs[0].anytime).toEqual(json.runs[1].anytime);
  });

  it("text: one comparison table with a column group per run", async () => {
    const r = await mexEval(run, exitWise);
    expect(r.stdout).toContain("quickstart (distilled)");
    expect(r.stdout).toContain("quickstart (exit-wise)");
    expect(r.stdout).toContain("Dynamic early exit: frontier top-1 % at a MAC budget");
  });

  it("--plot writes an SVG with axis titles and both runs, and a PNG", async () => {
    const svg = join(tmp, "cmp.svg");
    const png = join(tmp, "cmp.png");
    expect((await mexEval(run, exitWise, "--plot", svg)).code).toBe(0);
    expect((await mexEval(run, exitWise, "--plot", png, "--format", "json")).code).toBe(0);
    const text = readFileSync(svg, "utf8");
    expect(text).toContain(X_TITLE);
    expect(text).toContain(Y_TITLE);
    expect(text).toContain("quickstart (exit-wise)");
    expect(text).toContain("dynamic frontier");
    expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
  });
});

describe("mex eval --measure", () => {
  it("times the driver at the default point and reports both speed-ups", async () => {
    const json = JSON.parse((await mexEval(run, "--mode", "dynamic", "--measure", "--repeats", "1", "--format", "json")).stdout);
    const m = json.measure;
    expect(Object.keys(json)).toEqual(["exits", "dynamic", "dynamicCostModel", "measure"]);
    expect(m.examples).toBe(400); // quickstart: test_per_class=100, 4 classes
    expect(m.wallClockSpeedup).toBeCloseTo(m.fullMs / m.driverMs, 10);
    expect(m.macsSpeedup).toBeCloseTo(m.fullMacs / m.executedMacs, 10);
    if (m.point === "frontier >= 50% at exit 1") expect(m.exitFractions[0]).toBeGreaterThanOrEqual(0.5);
    // The driver reproduces the simulated point it was given.
    const point = json.dynamic.find((p: Json) => p.onFrontier && JSON.stringify(p.thresholds) === JSON.stringify(m.thresholds));
    expect(point).toBeDefined();
    expect(m.exitFractions).toEqual(point.exitFractions);
    expect(m.top1).toBe(point.top1);
  });

  it("--thresholds 0,0,0 sends everyone out at exit 1: MACs = stage 1 + head 1", async () => {
    const r = await mexEval(run, "--mode", "dynamic", "--measure", "--thresholds", "0,0,0", "--repeats", "1", "--format", "json");
    const m = JSON.parse(r.stdout).measure;
    expect(m.point).toBe("given");
    expect(m.exitFractions).toEqual([1, 0, 0]);
    expect(m.executedMacs).toBe(27680);
    expect(m.fullMacs).toBe(166016 + (27680 - 18432) + (92224 - 18432 - 73728));
  });

  it("text shows the measurement table", async () => {
    const r = await mexEval(run, "--mode", "dynamic", "--measure", "--repeats", "1", "--thresholds", "0.9,off,0");
    expect(r.stdout).toContain("Measured early exit on the test split (400 examples");
    expect(r.stdout).toMatch(/0\.9 off 0/);
  });
});

describe("mex eval errors", () => {
  it("not a run directory -> exit 2 naming it", async () => {
    const r = await mexEval(join(ROOT, "specs"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`'${join(ROOT, "specs")}' is not a run directory: run.json is missing`);
  });

  it("an unfinished run -> exit 2 with the resume hint", async () => {
    const dir = join(tmp, "unfinished");
    await untrainedRun(dir, specText("quickstart.mex"), "running");
    const r = await mexEval(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is an unfinished run (status: running); finish it with mex train --resume");
  });

  it("unknown --mode / --split / --format values -> exit 2 naming the option and its values", async () => {
    expect((await mexEval(run, "--mode", "fast")).stderr).toContain("option '--mode' must be one of anytime, budget, dynamic, all; got 'fast'");
    expect((await mexEval(run, "--split", "train")).stderr).toContain("option '--split' must be one of val, test; got 'train'");
    const r = await mexEval(run, "--format", "csv");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--format' must be one of text, json, md; got 'csv'");
  });

  it("bad option combinations and values -> exit 2", async () => {
    expect((await mexEval(run, "--mode", "anytime", "--measure")).stderr).toContain("use it with --mode dynamic");
    expect((await mexEval(run, "--plot", "out.pdf")).stderr).toContain("option '--plot' needs a .svg or .png file name");
    expect((await mexEval(run, "--budgets", "10K,,2")).stderr).toContain("option '--budgets' takes a comma-separated list");
    expect((await mexEval(run, "--at-macs", "lots")).stderr).toContain("option '--at-macs' takes a MAC count");
    const r = await mexEval(run, "--target-acc", "80");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--target-acc' takes an accuracy as a fraction in [0, 1] (0.8) or a percentage (80%)");
  });

  it("--thresholds of the wrong length -> exit 1 naming the exits", async () => {
    const r = await mexEval(run, "--mode", "dynamic", "--measure", "--thresholds", "0.5,0");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--thresholds has 2 value(s) but the model has 3 exits (e1, e2, e3)");
  });

  it("dataset missing -> exit 1 with the install hint", async () => {
    const dir = join(tmp, "fashion");
    await untrainedRun(dir, specText("fashion-3exit.mex"));
    const r = await mexEval(dir, "--data", join(tmp, "no-such-data"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`directory ${join(tmp, "no-such-data")} does not exist`);
    expect(r.stderr).toContain("hint: pass --data DIR with the dataset's IDX files (Fashion-MNIST: apt-get install dataset-fashion-mnist)");
  });
});

describe("the real binary", () => {
  beforeAll(() => ensureBuilt(), 180_000);
  const mex = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, "bin/mex.js"), ...args], { cwd: ROOT, encoding: "utf8" });

  it("mex eval RUN --format json prints the object; a non-run dir and a bad --mode exit 2", () => {
    const ok = mex("eval", run, "--format", "json", "--mode", "budget");
    expect(ok.status).toBe(0);
    expect(Object.keys(JSON.parse(ok.stdout))).toEqual(["exits", "budget"]);
    const notRun = mex("eval", tmp);
    expect(notRun.status).toBe(2);
    expect(notRun.stderr).toContain("is not a run directory");
    const badMode = mex("eval", run, "--mode", "nope");
    expect(badMode.status).toBe(2);
    expect(badMode.stderr).toContain("option '--mode' must be one of anytime, budget, dynamic, all");
  });
});
