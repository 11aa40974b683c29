/**
 * Numerical faults: a learning rate that blows the weights up stops training with a NumericalError
 * naming the epoch and batch, exit code 1, no model/ written, and the checkpoint of the last good epoch
 * intact (checksum verified, every value finite).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { ensureBuilt, mexAsync, ROOT, STACK_TRACE } from "../helpers/cli.js";

let tmp: string;
beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), "mex-nan-"));
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** quickstart with another optimizer, 6 epochs on less data. */
function specWith(optimizer: string): string {
  const text = readFileSync(path.join(ROOT, "specs/quickstart.mex"), "utf8")
    .replace("optimizer: adam(lr=0.01)", `optimizer: ${optimizer}`)
    .replace(/epochs: \d+/, "epochs: 6")
    .replace(/data: synthetic\([^)]*\)/, "data: synthetic(per_class=60, val_per_class=10, test_per_class=20)");
  expect(text).toContain(optimizer);
  return text;
}

function train(spec: string, out: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = mexAsync(["train", spec, "--out", out, "--no-progress"]);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

const FAULT = /mex: (loss|the weights) became (NaN|Infinity|-Infinity) at epoch (\d+), batch (\d+)/;

describe("numerical faults", () => {
  it("sgd(lr=1e6) and sgd(lr=20): stop with the NaN error, exit 1, no NaN weights written, last good checkpoint intact", async () => {
    const cases = ["sgd(lr=1e6)", "sgd(lr=20)"].map((optimizer, i) => {
      const spec = path.join(tmp, `nan${i}.mex`);
      writeFileSync(spec, specWith(optimizer));
      return { optimizer, spec, out: path.join(tmp, `run${i}`) };
    });
    const runs = await Promise.all(cases.map((c) => train(c.spec, c.out)));
    for (const [i, c] of cases.entries()) {
      const run = runs[i]!;
      expect(run.stderr).not.toMatch(STACK_TRACE);
      expect(run.code, run.stderr).toBe(1);
      const fault = run.stderr.match(FAULT);
      expect(fault, run.stderr).not.toBeNull();
      const epoch = Number(fault![3]);
      console.log(`${c.optimizer}: ${fault![0]}`);
      expect(existsSync(path.join(c.out, "model"))).toBe(false);
      const info = JSON.parse(readFileSync(path.join(c.out, "run.json"), "utf8")) as { status: string; error: string };
      expect(info.status).toBe("failed");
      expect(info.error).toMatch(/became (NaN|Infinity|-Infinity) at epoch/);
      const checkpoint = await loadCheckpoint<{ epoch: number }>(c.out);
      if (epoch === 1) {
        expect(checkpoint).toBeNull();
        continue;
      }
      // The checkpoint of epoch E-1: loads (checksum verified), no warning, every tensor finite.
      expect(checkpoint!.warning).toBeUndefined();
      expect(checkpoint!.state.epoch).toBe(epoch - 1);
      for (const arrays of checkpoint!.groups.values()) for (const a of arrays) expect(a.data.every(Number.isFinite), a.name).toBe(true);
      const lines = readFileSync(path.join(c.out, "metrics.jsonl"), "utf8").trimEnd().split("\n");
      expect(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual(Array.from({ length: epoch - 1 }, (_, k) => k + 1));
    }
    // At least one case must exercise the "checkpoint from before" path.
    expect(runs.some((r) => Number(r.stderr.match(FAULT)?.[3]) > 1)).toBe(true);
  }, 120_000);
});
