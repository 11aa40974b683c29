/**
 * Round trip: for every spec in specs/ (and test/onnx/coverage.mex, which uses every op and argument
 * combination the specs do not), export with random weights (random biases and batch-norm tensors
 * too) and compare every exit's logits from ONNX Runtime with tfjs `model.predict` on the same
 * random batch of 3: max abs diff < 1e-4.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { exportOnnx, logitsName } from "../../src/backends/onnx/index.js";
import { extractWeights } from "../../src/backends/tfjs/weights.js";
import { irOf, maxAbsDiff, ortRun, ortSession, randomisedModel, tfjsOutputs, uniform } from "./helpers.js";

const SPECS = [
  ...readdirSync("specs")
    .filter((f) => f.endsWith(".mex"))
    .sort()
    .map((f) => join("specs", f)),
  "test/onnx/coverage.mex",
];

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("ONNX Runtime agrees with tfjs on every exit", () => {
  it("finds the specs", () => {
    expect(SPECS.length).toBeGreaterThanOrEqual(7);
  });

  for (const file of SPECS) {
    it(file, async () => {
      const ir = irOf(file);
      const model = randomisedModel(ir, 5);
      const bytes = exportOnnx(ir, extractWeights(model), { producerVersion: "test" });
      const shape = [3, ...ir.input];
      const x = uniform(shape.reduce((a, b) => a * b, 1), 11);
      const expected = tfjsOutputs(model, x, shape);
      model.dispose();
      const session = await ortSession(bytes);
      const got = await ortRun(session, x, shape);
      expect(session.outputNames).toEqual(ir.exits.map((e) => logitsName(e.name)));
      ir.exits.forEach((exit, m) => {
        const out = got[logitsName(exit.name)]!;
        expect(out.dims).toEqual([3, ir.classes]);
        // A wrong layout would show as O(1) differences; float32 reordering stays far below 1e-4.
        expect(maxAbsDiff(out.data as Float32Array, expected[m]!), `${file} ${exit.name}`).toBeLessThan(1e-4);
      });
      await session.release();
    });
  }
});

describe("opsets", () => {
  it("opset 21 exports run in ONNX Runtime with the same logits", async () => {
    const ir = irOf("specs/quickstart.mex");
    const model = randomisedModel(ir, 2);
    const weights = extractWeights(model);
    const shape = [2, ...ir.input];
    const x = uniform(shape.reduce((a, b) => a * b, 1), 3);
    const expected = tfjsOutputs(model, x, shape);
    const session = await ortSession(exportOnnx(ir, weights, { producerVersion: "test", opset: 21 }));
    const got = await ortRun(session, x, shape);
    ir.exits.forEach((exit, m) => expect(maxAbsDiff(got[logitsName(exit.name)]!.data as Float32Array, expected[m]!)).toBeLessThan(1e-4));
  });
});
