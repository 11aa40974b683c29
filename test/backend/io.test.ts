import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { allNodes } from "../../src/ir/model.js";
import { buildModel, verifyShapes } from "../../src/backends/tfjs/build.js";
import { loadModel, loadModelWithMetadata, saveModel } from "../../src/backends/tfjs/io.js";
import { buildStagedModels, predictStaged } from "../../src/backends/tfjs/stages.js";
import { allOpsModel } from "./fixtures.js";
import { batch, maxAbsDiff, useCpu } from "./setup.js";

beforeAll(useCpu);

describe("saveModel / loadModel", () => {
  const ir = allOpsModel();

  it("round-trips names, custom layers and predictions", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "mex-io-")), "run", "model");
    const model = buildModel(ir, { seed: 11 });
    // Move the bn statistics off their defaults so they are checked too.
    const x = batch([8, 8, 3], 4);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 4);
    model.compile({ optimizer: tf.train.sgd(0.01), loss: tf.losses.softmaxCrossEntropy });
    await model.fit(x, [y, y, y], { epochs: 1, batchSize: 4, verbose: 0 });

    await saveModel(model, dir, { metadata: { sourceHash: "abc", seed: 11 } });
    expect((await readdir(dir)).sort()).toEqual(["model.json", "weights.bin"]);
    const json = JSON.parse(await readFile(join(dir, "model.json"), "utf8"));
    expect(json.format).toBe("layers-model");
    expect(json.weightsManifest[0].paths).toEqual(["./weights.bin"]);
    expect((await readFile(join(dir, "weights.bin"))).byteLength).toBe(4 * (ir.params + ir.buffers));

    const { model: loaded, metadata } = await loadModelWithMetadata(dir);
    expect(metadata).toEqual({ sourceHash: "abc", seed: 11 });
    expect(loaded.outputNames).toEqual(["e1", "e2", "e3"]);
    for (const node of allNodes(ir)) expect(loaded.getLayer(node.name).name).toBe(node.name);
    expect(loaded.getLayer("s1/gelu").getClassName()).toBe("MexGelu");
    expect(loaded.getLayer("s2/residual/conv").getClassName()).toBe("MexConv2D");
    expect(loaded.getLayer("s2/residual/conv").getConfig().groups).toBe(2);
    expect(loaded.getLayer("s3/conv").getConfig().dilationRate).toEqual([2, 2]);
    expect(verifyShapes(ir, loaded)).toEqual([]);

    const xt = batch([8, 8, 3], 5, 99);
    const before = model.predict(xt) as tf.Tensor[];
    const after = loaded.predict(xt) as tf.Tensor[];
    before.forEach((t, i) => expect(maxAbsDiff(t, after[i]!)).toBe(0));
    const staged = predictStaged(buildStagedModels(ir, loaded), xt);
    before.forEach((t, i) => expect(maxAbsDiff(t, staged[i]!)).toBe(0));
  });

  it("overwrites an existing save and leaves no temp files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mex-io-"));
    await saveModel(buildModel(ir, { seed: 1 }), dir);
    const second = buildModel(ir, { seed: 2 });
    await saveModel(second, dir);
    expect((await readdir(dir)).sort()).toEqual(["model.json", "weights.bin"]);
    const loaded = await loadModel(dir);
    const x = batch([8, 8, 3], 2);
    expect(maxAbsDiff((second.predict(x) as tf.Tensor[])[2]!, (loaded.predict(x) as tf.Tensor[])[2]!)).toBe(0);
    expect((await loadModelWithMetadata(dir)).metadata).toBeNull();
  });
});
