/** `mex export`: specs, run directories, early exit from thresholds or an eval report, and its errors. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Command, CommanderError } from "commander";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerExport } from "../../src/cli/export.js";
import { EXIT, UsageError, type Io } from "../../src/cli/io.js";
import { decodeModel, logitsName } from "../../src/backends/onnx/index.js";
import { saveModel } from "../../src/backends/tfjs/io.js";
import { describeRun, writeRunInfo } from "../../src/run/info.js";
import { MODEL_DIR } from "../../src/train/trainer.js";
import { irOf, maxAbsDiff, ortRun, ortSession, randomisedModel, tfjsOutputs, uniform } from "./helpers.js";

let dir: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  dir = mkdtempSync(join(tmpdir(), "mex-export-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _enc, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  stream.text = "";
  return stream;
}

/** Run `mex export ...args` the way main() does (usage errors -> 2). */
async function mexExport(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = sink();
  const stderr = sink();
  const io: Io = { stdout, stderr };
  let code: number = EXIT.ok;
  const program = new Command("mex").exitOverride().configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) });
  registerExport(program, io, (c) => (code = c));
  try {
    await program.parseAsync(["export", ...args], { from: "user" });
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(`mex: ${error.message}\n`);
      code = EXIT.usage;
    } else if (error instanceof CommanderError) code = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    else throw error;
  }
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe("mex export SPEC", () => {
  it("writes the multi-exit graph, byte-identical on a second run, and leaves no temp file", async () => {
    const a = join(dir, "a.onnx");
    const b = join(dir, "b.onnx");
    const first = await mexExport("specs/quickstart.mex", "--onnx", a);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("outputs logits_e1, logits_e2, logits_e3");
    expect((await mexExport("specs/quickstart.mex", "--onnx", b)).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    const meta = Object.fromEntries(decodeModel(readFileSync(a)).metadataProps.map((p) => [p.key, p.value]));
    expect(meta["mex.weights"]).toBe("initialised (seed 0, untrained)");
  });

  it("--early-exit --thresholds, overwriting an existing file", async () => {
    const out = join(dir, "ee.onnx");
    writeFileSync(out, "old");
    const r = await mexExport("specs/quickstart.mex", "--onnx", out, "--early-exit", "--thresholds", "0.6,inf", "--opset", "17");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("thresholds e1>=0.6 e2>=closed e3>=0");
    const model = decodeModel(readFileSync(out));
    expect(model.graph!.output!.map((o) => o.name)).toEqual(["probs", "exit_index"]);
    expect(Number(model.opsetImport[0]!.version)).toBe(17);
  });

  it("--from-eval with --budget picks the best point within the budget", async () => {
    const report = join(dir, "eval.json");
    writeFileSync(
      report,
      JSON.stringify({
        exits: [{ name: "e1" }, { name: "e2" }, { name: "e3" }],
        dynamic: [
          { thresholds: [0.7, 0.7, 0], expectedMacs: 100_000, top1: 0.6, onFrontier: true },
          { thresholds: [0.9, null, 0], expectedMacs: 150_000, top1: 0.7, onFrontier: true },
          { thresholds: [0.99, 0.99, 0], expectedMacs: 300_000, top1: 0.8, onFrontier: true },
        ],
      }),
    );
    const out = join(dir, "from-eval.onnx");
    const r = await mexExport("specs/quickstart.mex", "--onnx", out, "--early-exit", "--from-eval", report, "--budget", "200k");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const meta = Object.fromEntries(decodeModel(readFileSync(out)).metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta["mex.thresholds"]!)).toEqual({ e1: 0.9, e2: null, e3: 0 });
    const tooSmall = await mexExport("specs/quickstart.mex", "--onnx", out, "--early-exit", "--from-eval", report, "--budget", "1000");
    expect(tooSmall.code).toBe(1);
    expect(tooSmall.stderr).toContain("no operating point fits the budget of 1000 MACs (the cheapest needs 100000)");
  });
});

describe("mex export RUN_DIR", () => {
  it("exports the run's weights, and ONNX Runtime reproduces the saved model", async () => {
    const ir = irOf("specs/quickstart.mex");
    const run = join(dir, "run");
    mkdirSync(run);
    const model = randomisedModel(ir, 4);
    await writeRunInfo(run, { ...describeRun(ir, "specs/quickstart.mex", [], { name: "cpu", reason: "test" }, "0.0.0"), status: "completed", bestEpoch: 3 });
    await saveModel(model, join(run, MODEL_DIR));
    const out = join(dir, "run.onnx");
    const r = await mexExport(run, "--onnx", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const shape = [2, ...ir.input];
    const x = uniform(shape.reduce((a, b) => a * b, 1), 21);
    const expected = tfjsOutputs(model, x, shape);
    const got = await ortRun(await ortSession(readFileSync(out)), x, shape);
    ir.exits.forEach((exit, m) => expect(maxAbsDiff(got[logitsName(exit.name)]!.data as Float32Array, expected[m]!)).toBeLessThan(1e-4));
    const meta = Object.fromEntries(decodeModel(readFileSync(out)).metadataProps.map((p) => [p.key, p.value]));
    expect(meta["mex.weights"]).toBe("trained");
    expect(meta["mex.best_epoch"]).toBe("3");
  });

  it("a directory without run.json is a usage error", async () => {
    const r = await mexExport(dir, "--onnx", join(dir, "x.onnx"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is a directory without run.json");
  });
});

describe("mex export errors", () => {
  const cases: [string, string[], number, string][] = [
    ["output path is a directory", ["specs/quickstart.mex", "--onnx", "."], 2, "is a directory; give a file name"],
    ["output directory missing", ["specs/quickstart.mex", "--onnx", "/nonexistent-dir/m.onnx"], 2, "does not exist"],
    ["output parent is a file", ["specs/quickstart.mex", "--onnx", "specs/quickstart.mex/m.onnx"], 2, "is not a directory"],
    ["no --onnx", ["specs/quickstart.mex"], 2, "--onnx <file> is required"],
    ["wrong threshold count", ["specs/quickstart.mex", "--onnx", "OUT", "--early-exit", "--thresholds", "0.5"], 2, "expected 2 thresholds (for e1, e2; the last exit e3 always answers), got 1"],
    ["bad threshold", ["specs/quickstart.mex", "--onnx", "OUT", "--early-exit", "--thresholds", "0.5,high"], 2, "threshold 'high' is not a number"],
    ["thresholds without --early-exit", ["specs/quickstart.mex", "--onnx", "OUT", "--thresholds", "0.5,0.5"], 2, "--thresholds only applies to --early-exit"],
    ["--early-exit without thresholds", ["specs/quickstart.mex", "--onnx", "OUT", "--early-exit"], 2, "--early-exit needs thresholds"],
    ["both threshold sources", ["specs/quickstart.mex", "--onnx", "OUT", "--early-exit", "--thresholds", "0,0", "--from-eval", "x.json"], 2, "either --thresholds or --from-eval"],
    ["--budget without --from-eval", ["specs/quickstart.mex", "--onnx", "OUT", "--early-exit", "--thresholds", "0,0", "--budget", "1M"], 2, "--budget chooses a point of --from-eval"],
    ["opset too old", ["specs/quickstart.mex", "--onnx", "OUT", "--opset", "11"], 2, "--opset must be an integer from 13 to 21; got '11'"],
    ["missing spec", ["specs/nope.mex", "--onnx", "OUT"], 2, "cannot read 'specs/nope.mex'"],
  ];
  for (const [what, args, code, message] of cases) {
    it(what, async () => {
      const out = join(dir, `${what.replace(/\W+/g, "-")}.onnx`);
      const r = await mexExport(...args.map((a) => (a === "OUT" ? out : a)));
      expect(r.code).toBe(code);
      expect(r.stderr).toContain(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it("a spec with errors fails with its diagnostics (exit 1)", async () => {
    const spec = join(dir, "bad.mex");
    writeFileSync(spec, readFileSync("specs/quickstart.mex", "utf8").replace("dense(classes) }\n  exit e3", "dense(3) }\n  exit e3"));
    const r = await mexExport(spec, "--onnx", join(dir, "bad.onnx"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("has errors; nothing exported");
  });
});
