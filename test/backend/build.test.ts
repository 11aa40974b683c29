import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { walkNodes, allNodes, type LayerNode } from "../../src/ir/model.js";
import { buildModel, convFlavour, layerSeed, TfjsBuildError, verifyShapes } from "../../src/backends/tfjs/build.js";
import { allOpsModel, bn, conv, singleOpModel, vectorModel } from "./fixtures.js";
import { batch, nonTrainableCount, trainableCount, useCpu } from "./setup.js";

beforeAll(useCpu);

describe("buildModel on the all-ops fixture", () => {
  const ir = allOpsModel();
  let model: tf.LayersModel;
  beforeAll(() => {
    model = buildModel(ir, { seed: 1 });
  });

  it("has one logits output per exit, named and ordered by exit", () => {
    expect(model.outputNames).toEqual(["e1", "e2", "e3"]);
    expect(model.outputs.map((o) => o.shape)).toEqual([
      [null, 4],
      [null, 4],
      [null, 4],
    ]);
    expect(model.inputs[0]!.shape).toEqual([null, 8, 8, 3]);
  });

  it("names every IR node's layer after the node", () => {
    const names = new Set(model.layers.map((l) => l.name));
    for (const node of allNodes(ir)) expect(names.has(node.name), node.name).toBe(true);
    // input + 35 nodes (s1 6, e1 2, s2 10, e2 3, s3 9, e3 5) + 3 exit output layers
    expect([...allNodes(ir)].length).toBe(35);
    expect(model.layers.length).toBe(1 + 35 + 3);
  });

  it("maps ops to the expected tfjs layer classes", () => {
    const cls = (name: string) => model.getLayer(name).getClassName();
    expect(cls("s1/conv")).toBe("Conv2D");
    expect(cls("s1/conv_1")).toBe("DepthwiseConv2D");
    expect(cls("s2/residual/conv")).toBe("MexConv2D"); // grouped
    expect(cls("s3/residual/shortcut/conv")).toBe("MexConv2D"); // grouped
    expect(cls("s3/concat/conv")).toBe("MexConv2D"); // dilated
    expect(cls("s3/conv")).toBe("MexConv2D"); // dilated depthwise
    expect(cls("s1/gelu")).toBe("MexGelu");
    expect(cls("s1/relu6")).toBe("ReLU");
    expect(cls("s2/residual")).toBe("Add");
    expect(cls("s3/concat")).toBe("Concatenate");
    expect(cls("e2/dropout")).toBe("MexDropout");
    expect(cls("s3/avgpool")).toBe("AveragePooling2D");
    expect(cls("e1")).toBe("Activation");
  });

  it("passes conv, pool, bn and dropout arguments through", () => {
    const c = model.getLayer("s3/concat/conv").getConfig();
    expect(c.dilationRate).toEqual([2, 2]);
    expect(c.useBias).toBe(true);
    expect(model.getLayer("s1/conv_1").getConfig().depthMultiplier).toBe(2);
    expect(model.getLayer("s2/residual_1/conv").getConfig().strides).toEqual([2, 2]);
    const b = model.getLayer("s1/bn").getConfig();
    expect(b.momentum).toBeCloseTo(0.9, 12); // 1 - PyTorch momentum 0.1
    expect(b.epsilon).toBe(1e-5);
    expect(b.axis).toBe(-1);
    expect(model.getLayer("s1/relu6").getConfig().maxValue).toBe(6);
    expect(model.getLayer("e2/dropout").getConfig().rate).toBe(0.5);
    expect(model.getLayer("s3/avgpool").getConfig().poolSize).toEqual([2, 2]);
  });

  it("has the IR's trainable and buffer counts, per node and in total", () => {
    const count = (node: LayerNode): [number, number] => {
      if (node.kind === "op") return [trainableCount(model.getLayer(node.name)), nonTrainableCount(model.getLayer(node.name))];
      const children = [...walkNodes(node.kind === "residual" ? [...node.body, ...node.shortcut] : node.body)].filter((n) => n.kind === "op");
      return children.reduce<[number, number]>((acc, n) => [acc[0] + trainableCount(model.getLayer(n.name)), acc[1] + nonTrainableCount(model.getLayer(n.name))], [0, 0]);
    };
    for (const node of allNodes(ir)) expect(count(node), node.name).toEqual([node.params, node.buffers]);
    const trainable = model.trainableWeights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 1), 1), 0);
    // Hand sums of the fixture comments: stages 392+1184+3936+... = see fixture; model totals.
    expect(trainable).toBe(ir.params);
    expect(ir.params).toBe(216 + 16 + 160 + 68 + (1152 + 32) + (3456 + 48 + 384 + 48) + 388 + 1736 + (528 + 256) + 144 + 136 + 16 + 36);
    expect(model.countParams()).toBe(ir.params + ir.buffers);
    expect(ir.buffers).toBe(16 + 32 + 48 + 48 + 16);
  });

  it("agrees with every IR shape", () => {
    expect(verifyShapes(ir, model)).toEqual([]);
    expect(model.getLayer("s3/concat").outputShape).toEqual([null, 2, 2, 32]);
  });

  it("predicts finite logits of shape [n, classes] per exit", () => {
    const ys = model.predict(batch([8, 8, 3], 5)) as tf.Tensor[];
    expect(ys.map((y) => y.shape)).toEqual([
      [5, 4],
      [5, 4],
      [5, 4],
    ]);
    for (const y of ys) expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it("trains (dilated convs included): one fit step moves every kernel and gives a finite loss", async () => {
    model.compile({ optimizer: tf.train.sgd(0.1), loss: tf.losses.softmaxCrossEntropy });
    const x = batch([8, 8, 3], 4);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], "int32"), 4);
    const kernels = ["s1/conv", "s1/conv_1", "s2/residual/conv", "s3/concat/conv", "s3/residual/shortcut/conv", "s3/conv", "e3/dense_1"];
    const before = kernels.map((name) => model.getLayer(name).getWeights()[0]!.dataSync().slice());
    const h = await model.fit(x, [y, y, y], { epochs: 1, batchSize: 4, verbose: 0 });
    expect(Number.isFinite(h.history.loss![0] as number)).toBe(true);
    kernels.forEach((name, i) => {
      const after = model.getLayer(name).getWeights()[0]!.dataSync();
      expect(after.some((v, j) => v !== before[i]![j]), name).toBe(true);
    });
  });
});

describe("initialisation", () => {
  const ir = allOpsModel();
  const weightsOf = (seed: number) => buildModel(ir, { seed }).getWeights().map((w) => Array.from(w.dataSync()));

  it("same seed -> identical weights; different seed -> different kernels", () => {
    const a = weightsOf(3);
    expect(weightsOf(3)).toEqual(a);
    const b = weightsOf(4);
    expect(b).not.toEqual(a);
  });

  it("starts biases and beta at 0, gamma and moving variance at 1", () => {
    const m = buildModel(ir, { seed: 3 });
    const [gamma, beta, mean, variance] = m.getLayer("s1/bn").getWeights().map((w) => Array.from(w.dataSync()));
    expect(gamma).toEqual(new Array(8).fill(1));
    expect(beta).toEqual(new Array(8).fill(0));
    expect(mean).toEqual(new Array(8).fill(0));
    expect(variance).toEqual(new Array(8).fill(1));
    expect(Array.from(m.getLayer("e1/dense").getWeights()[1]!.dataSync())).toEqual([0, 0, 0, 0]);
  });

  it("derives a per-layer seed from the model seed and the layer name (FNV-1a)", () => {
    // FNV-1a 32 of "0:a": hand-checked with the published offset basis and prime.
    let h = 0x811c9dc5;
    for (const c of "0:a") h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    expect(layerSeed(0, "a")).toBe(h);
    expect(layerSeed(1, "s1/conv")).not.toBe(layerSeed(2, "s1/conv"));
    expect(layerSeed(1, "s1/conv")).not.toBe(layerSeed(1, "s1/conv_1"));
  });

  it("gives a layer the same initial weights whatever else is in the model", () => {
    const full = buildModel(ir, { seed: 9 }).getLayer("s1/conv").getWeights()[0]!.dataSync();
    const alone = buildModel(singleOpModel(ir.stages[0]!.nodes[0]!), { seed: 9 }).getLayer("s1/conv").getWeights()[0]!.dataSync();
    expect(Array.from(alone)).toEqual(Array.from(full));
  });
});

describe("batch norm running statistics", () => {
  it("follow the PyTorch momentum convention (IR momentum 0.1 -> new = 0.9 old + 0.1 batch)", async () => {
    const m = buildModel(singleOpModel(bn("s1/bn", [2])), { seed: 0 });
    m.compile({ optimizer: tf.train.sgd(0), loss: tf.losses.softmaxCrossEntropy });
    // Columns [0, 4] and [1, 3]: means 2 and 2, biased variances 4 and 1.
    const x = tf.tensor2d([
      [0, 1],
      [4, 3],
    ]);
    await m.fit(x, tf.tensor2d([[1, 0], [0, 1]]), { epochs: 1, batchSize: 2, verbose: 0 });
    const [, , mean, variance] = m.getLayer("s1/bn").getWeights().map((w) => Array.from(w.dataSync()));
    expect(mean![0]).toBeCloseTo(0.2, 6);
    expect(mean![1]).toBeCloseTo(0.2, 6);
    // tfjs updates with the biased batch variance (PyTorch uses the unbiased one: 8 and 2 here).
    expect(variance![0]).toBeCloseTo(0.9 + 0.4, 6);
    expect(variance![1]).toBeCloseTo(0.9 + 0.1, 6);
  });
});

describe("vector input", () => {
  it("builds [features] models", () => {
    const ir = vectorModel();
    const m = buildModel(ir, { seed: 0 });
    expect(m.inputs[0]!.shape).toEqual([null, 10]);
    expect(m.outputNames).toEqual(["e1", "e2"]);
    expect(m.countParams()).toBe(66 + 21 + 42 + 21);
    expect((m.predict(batch([10], 2)) as tf.Tensor[]).map((t) => t.shape)).toEqual([
      [2, 3],
      [2, 3],
    ]);
  });
});

describe("errors", () => {
  it("rejects stride > 1 with dilation > 1, naming the node", () => {
    const node = conv("s1/conv", [8, 8, 3], [4, 4, 4], 112, { filters: 4, stride: [2, 2], dilation: [2, 2] });
    expect(() => buildModel(singleOpModel(node), { seed: 0 })).toThrowError(/s1\/conv: stride \[2, 2\] with dilation \[2, 2\] is not supported/);
  });

  it("reports a shape the checker got wrong as an internal error naming the layer", () => {
    // 'valid' 3x3 conv on 8x8 gives 6x6, but the IR claims 8x8.
    const node = conv("s1/conv", [8, 8, 3], [8, 8, 4], 112, { filters: 4, padding: "valid" });
    let error: unknown;
    try {
      buildModel(singleOpModel(node), { seed: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TfjsBuildError);
    expect((error as TfjsBuildError).message).toMatch(/internal error/);
    expect((error as TfjsBuildError).message).toMatch(/s1\/conv: tfjs output shape \[batch, 6, 6, 4\] differs from the IR's \[batch, 8, 8, 4\]/);
    expect((error as TfjsBuildError).node).toBe("s1/conv");
  });

  it("classifies conv flavours", () => {
    expect(convFlavour(conv("a", [4, 4, 1], [4, 4, 3], 0, { filters: 3, groups: 1 }))).toBe("conv2d");
    expect(convFlavour(conv("a", [4, 4, 4], [4, 4, 8], 0, { filters: 8, groups: 4 }))).toBe("depthwise");
    expect(convFlavour(conv("a", [4, 4, 4], [4, 4, 8], 0, { filters: 8, groups: 4, dilation: [2, 1] }))).toBe("mex");
    expect(convFlavour(conv("a", [4, 4, 4], [4, 4, 8], 0, { filters: 8, groups: 1, dilation: [2, 2] }))).toBe("mex");
    expect(convFlavour(conv("a", [4, 4, 4], [4, 4, 8], 0, { filters: 8, groups: 2 }))).toBe("mex");
  });
});
