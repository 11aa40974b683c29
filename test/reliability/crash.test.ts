/**
 * Crash-safe training: `mex train` is SIGKILLed at seeded random points (mid-batch, and right when a
 * checkpoint write starts), resumed with --resume each time, and must end with a run directory that
 * loads, a metrics.jsonl of exactly epochs 1..6 in order, and final weights equal, bit for bit, to
 * those of an uninterrupted run with the same seed. Then checkpoint corruption: a flipped byte in the
 * newest checkpoint falls back to checkpoint.prev with a warning; both corrupt is a clear error, exit 1.
 */
import { watch, type FSWatcher } from "node:fs";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, mex, mexAsync, STACK_TRACE } from "../helpers/cli.js";
import { Rng } from "../../src/data/rng.js";

const EPOCHS = 6;
const TRAIN_ARGS = [
  "train", "specs/quickstart.mex",
  "--set", `train.epochs=${EPOCHS}`,
  "--set", "train.data=synthetic(per_class=60, val_per_class=10, test_per_class=20)",
  "--no-progress",
];

/** Uniform [0, 1) numbers from the project's seeded generator, so runs reproduce. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

type KillPlan =
  /** SIGKILL `delayMs` after this process printed its `epochs`-th epoch line: in the next epoch's batches. */
  | { kind: "mid-batch"; epochs: number; delayMs: number }
  /** SIGKILL as soon as the `nth` checkpoint temp directory of this process appears. */
  | { kind: "checkpoint-write"; nth: number };

interface Attempt {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly stdout: string;
  readonly killedAt: string | null;
}

/** Run `mex train` in the background, killing it according to `plan` (or not at all). */
function runTrain(out: string, resume: boolean, plan: KillPlan | null): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const child = mexAsync([...TRAIN_ARGS, "--out", out, ...(resume ? ["--resume"] : [])]);
    let stderr = "", stdout = "", killedAt: string | null = null, writes = 0, armed = false;
    let watcher: FSWatcher | null = null;
    const kill = (why: string): void => {
      if (killedAt !== null || child.exitCode !== null) return;
      killedAt = why;
      child.kill("SIGKILL");
    };
    if (plan?.kind === "checkpoint-write") {
      watcher = watch(out, (_event, name) => {
        if (name && String(name).startsWith("checkpoint.tmp-") && existsSync(path.join(out, String(name)))) {
          writes++;
          if (writes >= plan.nth) kill(`checkpoint write #${plan.nth}`);
        }
      });
    }
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      const done = stderr.match(/^epoch (\d+)\/\d+ /gm) ?? [];
      if (plan?.kind === "mid-batch" && done.length === plan.epochs && !armed) {
        armed = true;
        setTimeout(() => kill(`${plan.delayMs} ms after ${done[done.length - 1]!.trim()}`), plan.delayMs);
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      watcher?.close();
      resolve({ code, signal, stderr, stdout, killedAt });
    });
  });
}

function metricsLines(dir: string): Record<string, unknown>[] {
  const text = readFileSync(path.join(dir, "metrics.jsonl"), "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The metrics without wall-clock time, which legitimately differs between runs. */
function withoutTime(lines: Record<string, unknown>[]): Record<string, unknown>[] {
  return lines.map(({ seconds: _seconds, ...rest }) => rest);
}

let tmp: string;
let reference: string;
let referenceRun: Promise<Attempt>;
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "mex-crash-"));
  reference = path.join(tmp, "reference");
  mkdirSync(reference);
  // The uninterrupted run trains while the killed runs below do (two cores).
  referenceRun = runTrain(reference, false, null);
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("crash-safe training", () => {
  it("survives SIGKILL mid-batch and mid-checkpoint, resumes to the uninterrupted run's weights bit for bit", async () => {
    const random = prng(7);
    const plans: KillPlan[] = [
      { kind: "checkpoint-write", nth: 1 },
      { kind: "mid-batch", epochs: 1, delayMs: 30 + Math.floor(random() * 300) },
      { kind: "checkpoint-write", nth: 1 + Math.floor(random() * 2) },
      { kind: "mid-batch", epochs: 1, delayMs: 30 + Math.floor(random() * 300) },
    ];
    const dir = path.join(tmp, "killed");
    mkdirSync(dir);
    const log: string[] = [];
    let resume = false;
    for (const plan of plans) {
      const attempt = await runTrain(dir, resume, plan);
      const left = readdirSync(dir).filter((f) => f.includes(".tmp-"));
      log.push(`${JSON.stringify(plan)} -> ${attempt.killedAt ? `killed (${attempt.killedAt})` : `exit ${attempt.code}`}; temp files left: [${left.join(", ")}]; resumed: ${(attempt.stderr.match(/resume: [^\n]*/) ?? [""])[0]}`);
      expect(attempt.stderr + attempt.stdout).not.toMatch(STACK_TRACE);
      resume = true;
    }
    // Every planned kill should land (a process that finished first would make the test weaker, not wrong).
    expect(log.filter((line) => line.includes("-> killed")).length).toBeGreaterThanOrEqual(plans.length - 1);
    const last = await runTrain(dir, true, null);
    log.push(`final resume -> exit ${last.code}; ${(last.stderr.match(/resume: [^\n]*/) ?? [""])[0]}`);
    console.log(`kill schedule:\n  ${log.join("\n  ")}`);
    expect(last.code, last.stderr).toBe(0);

    const ref = await referenceRun;
    expect(ref.code, ref.stderr).toBe(0);

    // The run directory loads, and records the completed run.
    const { loadRun } = await import("../../src/run/load.js");
    const loaded = await loadRun(dir);
    expect(loaded.run.status).toBe("completed");
    loaded.model.dispose();

    // metrics.jsonl: exactly epochs 1..6 in order, no torn or duplicated line, same numbers as the reference.
    const lines = metricsLines(dir);
    expect(lines.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(withoutTime(lines)).toEqual(withoutTime(metricsLines(reference)));

    // Final weights equal bit for bit.
    const weights = readFileSync(path.join(dir, "model", "weights.bin"));
    const expected = readFileSync(path.join(reference, "model", "weights.bin"));
    expect(weights.length).toBe(expected.length);
    expect(weights.equals(expected)).toBe(true);

    // Nothing half-written left behind.
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    expect(readdirSync(path.join(dir, "model")).filter((f) => f.includes(".tmp-"))).toEqual([]);
  }, 240_000);

  it("a corrupt newest checkpoint: resume warns and uses checkpoint.prev; both corrupt: a clear error, exit 1", async () => {
    await referenceRun;
    const dir = path.join(tmp, "corrupt");
    cpSync(reference, dir, { recursive: true });
    // Pretend the run stopped after its last checkpoint, so resume has work to check (none to redo).
    const flip = (file: string): void => {
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
      writeFileSync(file, bytes);
    };
    flip(path.join(dir, "checkpoint", "tensors.bin"));
    const warned = mex([...TRAIN_ARGS, "--out", dir, "--resume"]);
    expect(warned.stderr).not.toMatch(STACK_TRACE);
    expect(warned.status, warned.stderr).toBe(0);
    expect(warned.stderr).toMatch(/warning: checkpoint '[^']*checkpoint' is unusable \(checksum mismatch: the tensors file is corrupt or was edited\); resumed from checkpoint\.prev instead/);
    expect(warned.stderr).toContain(`resume: continuing after epoch ${EPOCHS - 1}`);

    // A checkpoint of another spec (here: other --set overrides) is refused, not silently mixed in.
    const runJsonBefore = readFileSync(path.join(dir, "run.json"), "utf8");
    const specBefore = readFileSync(path.join(dir, "spec.mex"), "utf8");
    const other = mex([...TRAIN_ARGS, "--set", "train.seed=1", "--out", dir, "--resume"]);
    expect(other.stderr).not.toMatch(STACK_TRACE);
    expect(other.status, other.stderr).toBe(1);
    expect(other.stderr).toMatch(/mex: cannot resume .*: it was trained from a different spec/);
    // Refused before anything in the run directory was touched.
    expect(readFileSync(path.join(dir, "run.json"), "utf8")).toBe(runJsonBefore);
    expect(readFileSync(path.join(dir, "spec.mex"), "utf8")).toBe(specBefore);

    const both = path.join(tmp, "both-corrupt");
    cpSync(reference, both, { recursive: true });
    flip(path.join(both, "checkpoint", "tensors.bin"));
    flip(path.join(both, "checkpoint.prev", "tensors.bin"));
    const failed = mex([...TRAIN_ARGS, "--out", both, "--resume"]);
    expect(failed.stderr).not.toMatch(STACK_TRACE);
    expect(failed.status, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/no usable checkpoint left/);
    expect(failed.stderr).toMatch(/checkpoint\.prev' is unusable \(checksum mismatch/);
  }, 120_000);
});
