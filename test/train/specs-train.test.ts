/**
 * Every shipped spec trains, not just checks: its data feeds its input, the model builds, and a
 * training step with the spec's own optimizer, augmentation and objective gives a finite loss.
 * (specs/mlp.mex once checked clean but could not train: synthetic data made only images.)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backends/tfjs/backend.js";
import { checkSource } from "../../src/check/index.js";
import { DEFAULT_FASHION_MNIST_DIR } from "../../src/data/idx.js";
import type { ModelIR } from "../../src/ir/model.js";
import { train } from "../../src/train/trainer.js";
import { tmpdir } from "node:os";

const SPECS = join(import.meta.dirname, "../../specs");

beforeAll(async () => {
  await initBackend("wasm");
});

/** The spec with its data cut to a few examples per class and one epoch (the point is that it runs). */
function tiny(ir: ModelIR): ModelIR {
  const data = ir.train.data;
  const unlabeled = Math.min(data.unlabeledPerClass, 2);
  return {
    ...ir,
    train: { ...ir.train, epochs: 1, batch: 16, data: { ...data, perClass: 3, valPerClass: 1, unlabeledPerClass: unlabeled, testPerClass: 1 } },
  };
}

describe("every spec in specs/ trains", () => {
  for (const file of readdirSync(SPECS).filter((f) => f.endsWith(".mex")).sort()) {
    it(file, async (ctx) => {
      const { ir, diagnostics } = checkSource(readFileSync(join(SPECS, file), "utf8"), file);
      expect(diagnostics).toEqual([]);
      if (ir!.train.data.kind !== "synthetic" && !existsSync(DEFAULT_FASHION_MNIST_DIR)) {
        ctx.skip(`needs ${DEFAULT_FASHION_MNIST_DIR} (apt-get install -y dataset-fashion-mnist)`);
      }
      const result = await train(tiny(ir!), { dir: mkdtempSync(join(tmpdir(), "mex-spec-train-")) });
      expect(result.completed).toBe(true);
      expect(Number.isFinite(result.history[0]!.loss)).toBe(true);
      expect(result.exits.map((e) => e.name)).toEqual(ir!.exits.map((e) => e.name));
    }, 180_000);
  }
});
