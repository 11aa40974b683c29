/**
 * The real early-exit driver against the simulated dynamic evaluation: same thresholds, same
 * predictions and exits, on the quickstart network (untrained weights: spread confidences are
 * all the comparison needs) on the synthetic validation and test splits, with the cpu and wasm backends.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../src/backends/tfjs/backend.js";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { buildStagedModels, type StagedModels } from "../../src/backends/tfjs/stages.js";
import { predictProbs } from "../../src/backends/tfjs/predict.js";
import { checkSource } from "../../src/check/index.js";
import { loadDataset, type Dataset } from "../../src/data/dataset.js";
import type { ModelIR } from "../../src/ir/model.js";
import { exitCostIfStopAt, exitInfos, fullNetworkMacs, splitOutputs } from "../../src/eval/collect.js";
import { defaultMeasurePoint, earlyExit, executedMacs, gatherRows, measureSpeed, median } from "../../src/eval/driver.js";
import type { DynamicPoint } from "../../src/eval/types.js";
import { applyThresholds, dynamic, splitView } from "../../src/eval/dynamic.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
let ir: ModelIR;
let data: Dataset;

beforeAll(async () => {
  const checked = checkSource(readFileSync(path.join(ROOT, "specs/quickstart.mex"), "utf8"), "quickstart.mex");
  ir = checked.ir!;
  data = await loadDataset(ir.train.data, ir.input, ir.classes, ir.train.seed);
});

describe("cost vectors from the IR", () => {
  it("stop-at-m cost = backbone to stage(m) + heads 1..m; full = all stages + all heads", () => {
    // quickstart: stages 16x16x8 conv (9*1*8*256=18432), 8x8x16 conv (9*8*16*64=73728), 4x4x32 conv (9*16*32*16=73728)
    const stage = ir.stages.map((s) => s.cumulativeMacs);
    const heads = ir.exits.map((e) => e.macs);
    expect(exitCostIfStopAt(ir)).toEqual([stage[0]! + heads[0]!, stage[1]! + heads[0]! + heads[1]!, stage[2]! + heads[0]! + heads[1]! + heads[2]!]);
    expect(fullNetworkMacs(ir)).toBe(exitCostIfStopAt(ir)[2]);
    expect(exitInfos(ir).map((e) => e.cumulativeMacs)).toEqual(ir.exits.map((e) => e.cumulativeMacs));
  });
});

for (const backend of ["cpu", "wasm"] as const) {
  describe(`earlyExit on ${backend}`, () => {
    let model: tf.LayersModel;
    let staged: StagedModels;
    beforeAll(async () => {
      await initBackend(backend);
      model = buildModel(ir, { seed: 11 });
      staged = buildStagedModels(ir, model);
    });

    it("gives the simulated dynamic evaluation's predictions and exits for every threshold vector of the sweep", () => {
      const val = splitOutputs(model, data.val, ir);
      const test = splitOutputs(model, data.test, ir);
      const result = dynamic(val, test, exitInfos(ir), { exitCostIfStopAt: exitCostIfStopAt(ir), geometricQs: [0.2, 0.5, 1, 1.5], thresholds: [0.3, 0.4, 0.6] });
      // The sweep has to exercise exits that take some and leave some, or the comparison proves little.
      expect(result.points.some((p) => p.exitFractions[0]! > 0.1 && p.exitFractions[0]! < 0.9)).toBe(true);
      for (const [split, out] of [["val", val], ["test", test]] as const) {
        const view = splitView(out);
        const images = data[split];
        for (const p of result.points) {
          const simulated = applyThresholds(view, p.thresholds);
          // Small batches: the survivor gather runs many times, across batch boundaries too.
          const driven = earlyExit(staged, images, ir.input, p.thresholds, { batchSize: 37 });
          expect(Array.from(driven.exitOf)).toEqual(Array.from(simulated.exitOf));
          const simPred = Array.from(simulated.exitOf, (m, i) => view.pred[m]![i]!);
          expect(Array.from(driven.predictions)).toEqual(simPred);
        }
      }
    });

    it("with threshold 0 everyone answers at exit 1 and stages 2 and 3 never run", () => {
      const n = data.test.count;
      const r = earlyExit(staged, data.test, ir.input, [0, 0, 0], { batchSize: 64 });
      expect(Array.from(new Set(r.exitOf))).toEqual([0]);
      expect(r.stageCalls).toEqual([Math.ceil(n / 64), 0, 0]);
      expect(r.stageRows).toEqual([n, 0, 0]);
      expect(r.headRows).toEqual([n, 0, 0]);
      // Only stage 1 and head 1 ran: executed MACs per example = their MACs.
      expect(executedMacs(r, ir.stages.map((s) => s.macs), ir.exits.map((e) => e.macs))).toBe(ir.stages[0]!.macs + ir.exits[0]!.macs);
    });

    it("closed exits (+Infinity) skip their heads; the last exit answers the rest with the full model's argmax", () => {
      const n = data.test.count;
      const r = earlyExit(staged, data.test, ir.input, [Infinity, Infinity, 0.99]);
      expect(r.headRows).toEqual([0, 0, n]);
      expect(r.stageRows).toEqual([n, n, n]);
      const last = splitView(splitOutputs(model, data.test, ir)).pred[2]!;
      expect(Array.from(r.predictions)).toEqual(Array.from(last));
      expect(Array.from(new Set(r.exitOf))).toEqual([2]);
    });

    it("gatherRows picks rows in order; the timing baseline (predictProbs, batch 64) equals the evaluation's outputs", () => {
      const h = tf.tensor(Float32Array.from({ length: 4 * 2 * 3 }, (_, i) => i), [4, 2, 3]);
      const g = gatherRows(h, [3, 1]);
      expect(g.shape).toEqual([2, 2, 3]);
      expect(Array.from(g.dataSync())).toEqual([18, 19, 20, 21, 22, 23, 6, 7, 8, 9, 10, 11]);
      g.dispose();
      h.dispose();
      const full = predictProbs(model, data.test, ir.input, 64);
      const probs = splitOutputs(model, data.test, ir).probs;
      expect(full).toHaveLength(3);
      full.forEach((p, m) => {
        expect(p.length).toBe(probs[m]!.length);
        expect(Math.max(...p.map((v, i) => Math.abs(v - probs[m]![i]!)))).toBeLessThan(1e-5);
      });
    });

    it("rejects a threshold vector of the wrong length", () => {
      expect(() => earlyExit(staged, data.test, ir.input, [0.5, 0])).toThrow(/2 threshold\(s\) given for 3 exits \(e1, e2, e3\)/);
    });

    it("measureSpeed times both paths and returns the driver's result", () => {
      const m = measureSpeed(model, staged, data.test, ir.input, [0, 0, 0], { repeats: 3 });
      expect(m.driverRuns).toHaveLength(3);
      expect(m.fullRuns).toHaveLength(3);
      expect(m.speedup).toBeCloseTo(m.fullMs / m.driverMs, 10);
      expect(m.result.stageCalls[1]).toBe(0);
    });
  });
}

describe("median", () => {
  it("middle value, or the mean of the two middle values", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe("defaultMeasurePoint", () => {
  const point = (expectedMacs: number, top1: number, first: number): DynamicPoint => ({
    kind: "threshold", param: 0, thresholds: [0.5, 0], top1, expectedMacs, expectedMacsCumulative: expectedMacs,
    exitFractions: [first, 1 - first], valTop1: top1, valExitFractions: [first, 1 - first], valExpectedMacs: expectedMacs,
  });
  it("the most accurate frontier point with >= 50% leaving at exit 1", () => {
    const frontier = [point(10, 0.5, 0.9), point(20, 0.6, 0.5), point(30, 0.7, 0.3)];
    expect(defaultMeasurePoint(frontier)).toEqual({ point: frontier[1], how: "frontier >= 50% at exit 1" });
  });
  it("else the middle point; null for an empty frontier", () => {
    const frontier = [point(10, 0.5, 0.4), point(20, 0.6, 0.3), point(30, 0.7, 0.2), point(40, 0.8, 0.1)];
    expect(defaultMeasurePoint(frontier)).toEqual({ point: frontier[1], how: "frontier middle" });
    expect(defaultMeasurePoint([])).toBeNull();
  });
});
