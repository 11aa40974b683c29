import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { extractWeights, loadWeightsInto } from "../../src/backends/tfjs/weights.js";
import { allOpsModel } from "./fixtures.js";
import { batch, maxAbsDiff, useCpu } from "./setup.js";

beforeAll(useCpu);

describe("extractWeights", () => {
  const ir = allOpsModel();

  it("keys weights by IR node name and role, in the documented layouts", () => {
    const w = extractWeights(buildModel(ir, { seed: 2 }));
    const shapes = (name: string) => Object.fromEntries(Object.entries(w.get(name) ?? {}).map(([role, v]) => [role, v!.shape]));
    expect(shapes("s1/conv")).toEqual({ kernel: [3, 3, 3, 8] }); // no bias
    expect(shapes("s1/conv_1")).toEqual({ kernel: [3, 3, 8, 2], bias: [16] }); // depthwise [kh,kw,inC,mult]
    expect(shapes("s2/residual/conv")).toEqual({ kernel: [3, 3, 8, 16] }); // grouped [kh,kw,inC/groups,outC]
    expect(shapes("s3/conv")).toEqual({ kernel: [3, 3, 16, 1] }); // dilated depthwise, same layout as depthwise
    expect(shapes("s3/residual/shortcut/conv")).toEqual({ kernel: [1, 1, 16, 16] });
    expect(shapes("e1/dense")).toEqual({ kernel: [16, 4], bias: [4] });
    expect(shapes("s1/bn")).toEqual({ gamma: [8], beta: [8], movingMean: [8], movingVariance: [8] });
    expect(shapes("e3/bn")).toEqual({ gamma: [8], beta: [8], movingMean: [8], movingVariance: [8] });
    // Only layers with weights: 9 convs, 4 dense, 5 bn.
    expect(w.size).toBe(9 + 4 + 5);
    expect(w.has("s1/relu6")).toBe(false);
    const total = [...w.values()].flatMap((r) => Object.values(r)).reduce((a, v) => a + v!.data.length, 0);
    expect(total).toBe(ir.params + ir.buffers);
  });

  it("copies values (mutating the copy leaves the model alone)", () => {
    const model = buildModel(ir, { seed: 2 });
    const w = extractWeights(model);
    const before = model.getLayer("e1/dense").getWeights()[0]!.dataSync()[0];
    w.get("e1/dense")!.kernel!.data[0] = 123;
    expect(model.getLayer("e1/dense").getWeights()[0]!.dataSync()[0]).toBe(before);
  });
});

describe("loadWeightsInto", () => {
  const ir = allOpsModel();

  it("makes a differently seeded model predict identically", () => {
    const a = buildModel(ir, { seed: 1 });
    const b = buildModel(ir, { seed: 2 });
    const x = batch([8, 8, 3], 3);
    const ya = a.predict(x) as tf.Tensor[];
    expect(maxAbsDiff(ya[2]!, (b.predict(x) as tf.Tensor[])[2]!)).toBeGreaterThan(0);
    loadWeightsInto(b, extractWeights(a));
    const yb = b.predict(x) as tf.Tensor[];
    ya.forEach((y, i) => expect(maxAbsDiff(y, yb[i]!)).toBe(0));
  });

  it("rejects a wrong shape, a missing and an unknown layer, and then changes nothing", () => {
    const model = buildModel(ir, { seed: 1 });
    const w = extractWeights(model);
    const before = extractWeights(model);
    w.get("e1/dense")!.kernel = { shape: [4, 16], data: new Float32Array(64) };
    w.delete("s1/bn");
    w.set("nope/conv", { kernel: { shape: [1], data: new Float32Array(1) } });
    w.get("s1/conv_1")!.bias!.data.fill(7);
    expect(() => loadWeightsInto(model, w)).toThrowError(
      /s1\/bn: no weights given[\s\S]*e1\/dense: kernel has shape \[4, 16\], the layer needs \[16, 4\][\s\S]*nope\/conv: no such layer/,
    );
    expect(extractWeights(model)).toEqual(before);
  });
});
