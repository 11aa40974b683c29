/**
 * A short real-data training run through the real CLI: the reference spec on Fashion-MNIST (the Debian
 * package dataset-fashion-mnist, which .ci/run installs), one epoch on a small subset. Skipped with a
 * message where the dataset is not installed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, mex, STACK_TRACE } from "../helpers/cli.js";
import { loadRun } from "../../src/run/load.js";

const FASHION = "/usr/share/datasets/fashion-mnist";
const available = existsSync(FASHION);
if (!available) console.warn(`skipping the Fashion-MNIST training test: ${FASHION} is missing (apt-get install dataset-fashion-mnist)`);

describe.skipIf(!available)("mex train on Fashion-MNIST", () => {
  let tmp: string;
  beforeAll(() => {
    ensureBuilt();
    tmp = mkdtempSync(path.join(tmpdir(), "mex-fashion-"));
  }, 180_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("trains specs/fashion-3exit.mex for an epoch and writes a loadable run directory", async () => {
    const out = path.join(tmp, "f");
    const r = mex(
      ["train", "specs/fashion-3exit.mex", "--set", "train.epochs=1", "--set", "train.data=fashion_mnist(per_class=40, val_per_class=10, test_per_class=20)", "--out", out, "--no-progress"],
      { timeout: 170_000 },
    );
    expect(r.stderr).not.toMatch(STACK_TRACE);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("data: fashion_mnist: 28x28x1, 10 classes; train 300, val 100, test 200");
    expect(r.stdout).toMatch(/│ e1 +│ s1 +│ +678K │/);
    const lines = readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(1);
    const epoch = JSON.parse(lines[0]!) as { epoch: number; val_acc: number[]; tau: number };
    expect(epoch.epoch).toBe(1);
    expect(epoch.val_acc).toHaveLength(3);
    expect(epoch.tau).toBeGreaterThanOrEqual(1);
    const run = await loadRun(out);
    expect(run.run.status).toBe("completed");
    expect(run.model.outputNames).toEqual(["e1", "e2", "e3"]);
    run.model.dispose();
  }, 180_000);
});
