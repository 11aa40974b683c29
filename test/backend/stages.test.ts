import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { buildStagedModels, predictStaged } from "../../src/backends/tfjs/stages.js";
import { allOpsModel, vectorModel } from "./fixtures.js";
import { batch, maxAbsDiff, useCpu } from "./setup.js";

beforeAll(useCpu);

describe("buildStagedModels", () => {
  const ir = allOpsModel();

  it("has one model per stage and per exit with the IR's shapes", () => {
    const model = buildModel(ir, { seed: 5 });
    const staged = buildStagedModels(ir, model);
    expect(staged.stages.map((s) => [s.name, s.model.inputs[0]!.shape, s.model.outputs[0]!.shape])).toEqual([
      ["s1", [null, 8, 8, 3], [null, 4, 4, 16]],
      ["s2", [null, 4, 4, 16], [null, 2, 2, 24]],
      ["s3", [null, 2, 2, 24], [null, 1, 1, 16]],
    ]);
    expect(staged.heads.map((h) => [h.name, h.stageIndex, h.model.outputs[0]!.shape])).toEqual([
      ["e1", 0, [null, 4]],
      ["e2", 1, [null, 4]],
      ["e3", 2, [null, 4]],
    ]);
  });

  it("gives the full model's logits, exit by exit", () => {
    const model = buildModel(ir, { seed: 5 });
    const staged = buildStagedModels(ir, model);
    const x = batch([8, 8, 3], 6);
    const full = model.predict(x) as tf.Tensor[];
    const parts = predictStaged(staged, x);
    full.forEach((y, i) => expect(maxAbsDiff(y, parts[i]!)).toBe(0));
  });

  it("shares weights with the full model", () => {
    const model = buildModel(ir, { seed: 5 });
    const staged = buildStagedModels(ir, model);
    expect(staged.stages[0]!.model.getLayer("s1/conv")).toBe(model.getLayer("s1/conv"));
    const layer = model.getLayer("e1/dense");
    const [k, b] = layer.getWeights();
    layer.setWeights([k!, tf.tensor1d([1, 2, 3, 4])]);
    const x = batch([8, 8, 3], 2);
    const viaHead = staged.heads[0]!.model.predict(staged.stages[0]!.model.predict(x) as tf.Tensor) as tf.Tensor;
    expect(maxAbsDiff(viaHead, (model.predict(x) as tf.Tensor[])[0]!)).toBe(0);
    void b;
  });

  it("works for vector inputs", () => {
    const vir = vectorModel();
    const model = buildModel(vir, { seed: 1 });
    const x = batch([10], 3);
    const full = model.predict(x) as tf.Tensor[];
    const parts = predictStaged(buildStagedModels(vir, model), x);
    full.forEach((y, i) => expect(maxAbsDiff(y, parts[i]!)).toBe(0));
  });

  it("names the missing layer when the model is not from this IR", () => {
    const model = buildModel(vectorModel(), { seed: 1 });
    expect(() => buildStagedModels(ir, model)).toThrowError(/has no layer "s1\/conv"/);
  });
});
