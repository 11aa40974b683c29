// Backend selection: auto falls back from tfjs-node (not installed here) to wasm.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { BackendUnavailableError, initBackend } from "../../src/backends/tfjs/backend.js";
import { MEX_WASM_KERNELS } from "../../src/backends/tfjs/wasm-kernels/index.js";

describe("initBackend", () => {
  it("auto picks wasm with the mex kernels when tfjs-node is missing", async () => {
    const info = await initBackend("auto");
    expect(info).toEqual({ name: "wasm", reason: "tfjs-node not installed; using wasm with mex training kernels" });
    expect(tf.getBackend()).toBe("wasm");
    for (const [name] of MEX_WASM_KERNELS) expect(tf.getKernel(name, "wasm"), name).toBeDefined();
  });

  it("an explicit node request fails with a clear error", async () => {
    await expect(initBackend("node")).rejects.toThrow(BackendUnavailableError);
    await expect(initBackend("node")).rejects.toThrow("tfjs backend 'node' is unavailable: tfjs-node not installed");
  });

  it("switches between cpu and wasm repeatedly", async () => {
    expect((await initBackend("cpu")).name).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect((await initBackend("wasm")).name).toBe("wasm");
    expect((await initBackend("wasm")).name).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    // A conv gradient (Conv2DBackpropFilter is missing from stock wasm) runs.
    const g = tf.grad((w: tf.Tensor) => tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, "valid").sum())(tf.ones([2, 2, 1, 1]));
    expect(Array.from(g.dataSync())).toEqual([4, 4, 4, 4]);
  });
});
