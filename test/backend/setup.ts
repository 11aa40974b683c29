import * as tf from "@tensorflow/tfjs";

/** All backend tests run on the pure-JS cpu backend (deterministic, no native code). */
export async function useCpu(): Promise<void> {
  await tf.setBackend("cpu");
  await tf.ready();
}

/** A deterministic input batch with values in [-1, 1). */
export function batch(shape: readonly number[], n: number, seed = 7): tf.Tensor {
  return tf.randomUniform([n, ...shape], -1, 1, "float32", seed);
}

export function trainableCount(layer: tf.layers.Layer): number {
  return layer.trainableWeights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 1), 1), 0);
}

export function nonTrainableCount(layer: tf.layers.Layer): number {
  return layer.nonTrainableWeights.reduce((a, w) => a + w.shape.reduce((x: number, y) => x * (y ?? 1), 1), 0);
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);
}
