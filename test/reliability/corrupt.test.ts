/**
 * Corrupt inputs: broken IDX files (truncated, wrong magic, wrong type, garbled gzip, count mismatch,
 * absurd dimensions, bad labels) are DataErrors naming the file, and `mex train` exits 1 without a
 * model or checkpoint; a run directory whose weights.bin is missing, truncated or edited fails to load
 * with a clear message (weights.bin carries a SHA-256 in model.json); export and eval refuse it too,
 * an export target that is a directory or cannot be created is a clear error, and nothing half-written
 * is left behind.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DataIR } from "../../src/ir/model.js";
import { loadDataset } from "../../src/data/dataset.js";
import { DataError } from "../../src/data/errors.js";
import { encodeIdx, idxStem } from "../../src/data/idx.js";
import { ensureBuilt, mex, mexAsync, ROOT, STACK_TRACE } from "../helpers/cli.js";
import { CLASSES, idxSpec, SIZE, TEST_PER_CLASS, TRAIN_PER_CLASS, writeIdxDataset } from "./fixtures.js";

let tmp: string;
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "mex-corrupt-"));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TRAIN_IMAGES = idxStem("train", "images");
const TRAIN_LABELS = idxStem("train", "labels");

/** Each case breaks one file of a good dataset; `message` must appear in the DataError. */
const BREAKS: { name: string; file: string; apply: (file: string) => void; message: RegExp }[] = [
  { name: "truncated image payload", file: TRAIN_IMAGES, apply: (f) => truncateSync(f, readFileSync(f).length - 100), message: /need 12288 payload bytes, found 12188 \(file is truncated\)/ },
  { name: "truncated header", file: TRAIN_IMAGES, apply: (f) => truncateSync(f, 7), message: /truncated IDX header: 3 dimensions need 16 header bytes, found 7/ },
  { name: "empty file", file: TRAIN_LABELS, apply: (f) => writeFileSync(f, ""), message: /too short for an IDX header: expected at least 4 bytes, found 0/ },
  { name: "wrong magic", file: TRAIN_IMAGES, apply: (f) => patch(f, 0, [0x12, 0x34]), message: /not an IDX file: expected magic 00 00 <type> <ndims 1\.\.4>, found 12 34 08 03/ },
  { name: "wrong data type (float32)", file: TRAIN_IMAGES, apply: (f) => patch(f, 2, [0x0d]), message: /IDX data type 0x0d \(float32\) is not supported/ },
  { name: "trailing bytes", file: TRAIN_LABELS, apply: (f) => writeFileSync(f, Buffer.concat([readFileSync(f), Buffer.from([1, 2, 3])])), message: /need 48 payload bytes, found 51 \(file has trailing bytes\)/ },
  { name: "garbled gzip", file: TRAIN_IMAGES, apply: (f) => writeFileSync(f, Buffer.concat([gzipSync(readFileSync(f)).subarray(0, 40), Buffer.alloc(40, 0xab)])), message: /gzip data is corrupt or truncated/ },
  // 2^32-1 images of 2^32-1 x 2^32-1 pixels announced in a 16-byte header: rejected without allocating.
  { name: "absurd dimensions", file: TRAIN_IMAGES, apply: (f) => writeFileSync(f, Buffer.from([0, 0, 8, 3, ...Array(12).fill(0xff)])), message: /need 7\.9\d+e\+28 payload bytes, found 0 \(file is truncated\)/ },
  { name: "label count differs from image count", file: TRAIN_LABELS, apply: (f) => writeFileSync(f, encodeIdx([47], new Uint8Array(47))), message: /has 47 labels but .* has 48 images; the counts must match/ },
  { name: "label out of range", file: TRAIN_LABELS, apply: (f) => writeFileSync(f, encodeIdx([48], new Uint8Array(48).fill(200))), message: /label 200 at index 0 is out of range for a model with 4 classes/ },
  { name: "images of the wrong size", file: TRAIN_IMAGES, apply: (f) => writeFileSync(f, encodeIdx([48, 8, 8], new Uint8Array(48 * 64))), message: /spec input \[16,16,1\] but idx images are 8x8x1/ },
  { name: "missing labels file", file: TRAIN_LABELS, apply: (f) => rmSync(f), message: /missing train-labels-idx1-ubyte \(or train-labels-idx1-ubyte\.gz\) in / },
];

function patch(file: string, at: number, values: number[]): void {
  const bytes = readFileSync(file);
  values.forEach((v, i) => (bytes[at + i] = v));
  writeFileSync(file, bytes);
}

function dataIR(dir: string): DataIR {
  return { kind: "idx", dir, perClass: TRAIN_PER_CLASS, valPerClass: 2, unlabeledPerClass: 0, testPerClass: TEST_PER_CLASS, normalize: true };
}

function trainAsync(spec: string, out: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = mexAsync(["train", spec, "--out", out, "--no-progress"]);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

function leftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes(".tmp-") || f.endsWith(".tmp"));
}

describe("corrupt IDX files", () => {
  it("the good fixture loads (so every failure below is the break's doing)", async () => {
    const dir = path.join(tmp, "good-data");
    writeIdxDataset(dir);
    const data = await loadDataset(dataIR(dir), [SIZE, SIZE, 1], CLASSES, 0);
    expect([data.train.count, data.val.count, data.test.count]).toEqual([40, 8, 20]);
  });

  for (const [i, b] of BREAKS.entries()) {
    it(`${b.name}: a DataError naming ${b.file}`, async () => {
      const dir = path.join(tmp, `broken-${i}`);
      writeIdxDataset(dir);
      b.apply(path.join(dir, b.file));
      const error = await loadDataset(dataIR(dir), [SIZE, SIZE, 1], CLASSES, 0).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      const message = (error as Error).message;
      expect(message).toMatch(b.message);
      expect(message).toContain(b.file.replace(/-idx\d-ubyte$/, ""));
    });
  }

  it("mex train on broken data: exit 1, the file named, no stack trace, no model or checkpoint", async () => {
    const picks = [0, 3]; // truncated payload, wrong magic
    const runs = await Promise.all(
      picks.map((i) => {
        const base = path.join(tmp, `cli-broken-${i}`);
        writeIdxDataset(path.join(base, "data"));
        BREAKS[i]!.apply(path.join(base, "data", BREAKS[i]!.file));
        writeFileSync(path.join(base, "spec.mex"), idxSpec("data", null));
        return trainAsync(path.join(base, "spec.mex"), path.join(base, "run"));
      }),
    );
    for (const [k, run] of runs.entries()) {
      const b = BREAKS[picks[k]!]!;
      const base = path.join(tmp, `cli-broken-${picks[k]}`);
      expect(run.stderr).not.toMatch(STACK_TRACE);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`mex: .*${path.join(base, "data", b.file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      expect(run.stderr).toMatch(b.message);
      expect(existsSync(path.join(base, "run", "model"))).toBe(false);
      expect(existsSync(path.join(base, "run", "checkpoint"))).toBe(false);
      expect(leftovers(path.join(base, "run"))).toEqual([]);
    }
  }, 120_000);
});

describe("corrupt run directories", () => {
  let good: string;
  beforeAll(async () => {
    const base = path.join(tmp, "trained");
    writeIdxDataset(path.join(base, "data"));
    writeFileSync(path.join(base, "spec.mex"), idxSpec("data", null));
    good = path.join(base, "run");
    const run = await trainAsync(path.join(base, "spec.mex"), good);
    if (run.code !== 0) throw new Error(`training the fixture run failed:\n${run.stderr}`);
  }, 120_000);

  const damage: { name: string; apply: (dir: string) => void; message: RegExp }[] = [
    { name: "weights.bin missing", apply: (d) => rmSync(path.join(d, "model", "weights.bin")), message: /the weights file .*weights\.bin is missing/ },
    { name: "weights.bin edited (one byte)", apply: (d) => patch(path.join(d, "model", "weights.bin"), 1000, [0x42]), message: /weights\.bin does not match the SHA-256 recorded in model\.json \(the file is corrupt, truncated or was edited\)/ },
    { name: "weights.bin truncated", apply: (d) => truncateSync(path.join(d, "model", "weights.bin"), 100), message: /weights\.bin does not match the SHA-256 recorded in model\.json/ },
    { name: "model.json missing", apply: (d) => rmSync(path.join(d, "model", "model.json")), message: /has no trained model \(model\/model\.json is missing/ },
    { name: "run.json garbled", apply: (d) => writeFileSync(path.join(d, "run.json"), "{ not json"), message: /run\.json is not valid JSON/ },
    { name: "stored spec edited", apply: (d) => {
      const info = JSON.parse(readFileSync(path.join(d, "run.json"), "utf8")) as { spec: string };
      writeFileSync(path.join(d, "run.json"), JSON.stringify({ ...info, spec: info.spec.replace("classes 4", "classes 5") }));
    }, message: /the stored spec does not match its hash \(edited\?\)/ },
  ];

  it("the intact run loads", async () => {
    const { loadRun } = await import("../../src/run/load.js");
    const loaded = await loadRun(good);
    expect(loaded.run.status).toBe("completed");
    loaded.model.dispose();
  });

  for (const [i, d] of damage.entries()) {
    it(`${d.name}: loadRun fails with a clear RunError`, async () => {
      const dir = path.join(tmp, `damaged-${i}`);
      cpSync(good, dir, { recursive: true });
      d.apply(dir);
      const { loadRun } = await import("../../src/run/load.js");
      const { RunError } = await import("../../src/run/info.js");
      const error = await loadRun(dir).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(RunError);
      expect((error as Error).message).toMatch(d.message);
    });
  }

  it.skipIf(!existsSync(path.join(ROOT, "dist/src/cli/export.js")))("mex export refuses an edited weights file, a directory target and an uncreatable target; nothing half-written", () => {
    const edited = path.join(tmp, "export-edited");
    cpSync(good, edited, { recursive: true });
    patch(path.join(edited, "model", "weights.bin"), 1000, [0x42]);
    const outDir = path.join(tmp, "export-out");
    mkdirSync(outDir);
    const target = path.join(outDir, "m.onnx");
    const refused = mex(["export", edited, "--onnx", target]);
    expect(refused.stderr + refused.stdout).not.toMatch(STACK_TRACE);
    expect(refused.status).not.toBe(0);
    expect(refused.status).not.toBe(70);
    expect(refused.stderr).toMatch(/SHA-256/);
    expect(existsSync(target)).toBe(false);

    // The target is an existing directory.
    const dirTarget = path.join(outDir, "a-directory.onnx");
    mkdirSync(dirTarget);
    const toDir = mex(["export", good, "--onnx", dirTarget]);
    expect(toDir.stderr + toDir.stdout).not.toMatch(STACK_TRACE);
    expect([1, 2]).toContain(toDir.status);
    expect(toDir.stderr).toMatch(/director/);
    expect(readdirSync(dirTarget)).toEqual([]);

    // The target's parent is a regular file: it cannot be created.
    const blocker = path.join(outDir, "plain-file");
    writeFileSync(blocker, "x");
    const unwritable = mex(["export", good, "--onnx", path.join(blocker, "m.onnx")]);
    expect(unwritable.stderr + unwritable.stdout).not.toMatch(STACK_TRACE);
    expect([1, 2]).toContain(unwritable.status);
    expect(unwritable.stderr).toMatch(/plain-file/);
    expect(leftovers(outDir)).toEqual([]);
    expect(readdirSync(outDir).sort()).toEqual(["a-directory.onnx", "plain-file"]);
  }, 120_000);

  it.skipIf(!existsSync(path.join(ROOT, "dist/src/cli/eval.js")))("mex eval refuses an edited weights file", () => {
    const edited = path.join(tmp, "eval-edited");
    cpSync(good, edited, { recursive: true });
    patch(path.join(edited, "model", "weights.bin"), 1000, [0x42]);
    const run = mex(["eval", edited]);
    expect(run.stderr + run.stdout).not.toMatch(STACK_TRACE);
    expect(run.status).not.toBe(0);
    expect(run.status).not.toBe(70);
    expect(run.stderr).toMatch(/SHA-256/);
  }, 120_000);
});
