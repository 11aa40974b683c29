import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { expect, it } from "vitest";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { allOpsModel } from "./fixtures.js";

// Initial weights come from tfjs-core's seeded JS generator, so the backend must not matter.
it("gives identical initial weights on the cpu and wasm backends", async () => {
  await tf.setBackend("cpu");
  const cpu = buildModel(allOpsModel(), { seed: 3 }).getWeights().map((w) => Array.from(w.dataSync()));
  expect(await tf.setBackend("wasm")).toBe(true);
  const wasm = buildModel(allOpsModel(), { seed: 3 }).getWeights().map((w) => Array.from(w.dataSync()));
  expect(wasm).toEqual(cpu);
});
