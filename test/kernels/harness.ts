// Shared helpers for comparing wasm kernels with the cpu backend in one process.
// Tensors never cross backends: each side re-creates its inputs from plain arrays.
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backends/tfjs/backend.js";
import { Rng } from "../../src/data/rng.js";

export interface Arr {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** Deterministic uniform(-1, 1) data from the project's seeded generator, so failures reproduce. */
export function randomArr(shape: number[], seed: number): Arr {
  const rng = new Rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return { shape, data: Float32Array.from({ length: n }, () => rng.uniform(-1, 1)) };
}

export async function initBothBackends(): Promise<void> {
  await initBackend("cpu");
  await initBackend("wasm");
}

export function toTensor(a: Arr): tf.Tensor {
  return tf.tensor(a.data, a.shape, "float32");
}

/** Runs `fn` on `backend` (inputs must be created inside `fn`) and copies the result out. */
export async function runOn(backend: "wasm" | "cpu", fn: () => tf.Tensor): Promise<Arr> {
  await tf.setBackend(backend);
  const t = tf.tidy(fn);
  const out = { shape: t.shape.slice(), data: Float32Array.from(t.dataSync() as Float32Array) };
  t.dispose();
  return out;
}

/** max |a - ref| / max |ref| (0 when both are all zeros). */
export function relErr(a: Arr, ref: Arr): number {
  if (a.data.length !== ref.data.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i]! - ref.data[i]!));
    scale = Math.max(scale, Math.abs(ref.data[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Result of `fn` on wasm and on cpu. */
export async function wasmVsCpu(fn: () => tf.Tensor): Promise<{ wasm: Arr; cpu: Arr }> {
  const wasm = await runOn("wasm", fn);
  const cpu = await runOn("cpu", fn);
  return { wasm, cpu };
}
