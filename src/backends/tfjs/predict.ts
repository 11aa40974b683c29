/** Batched inference of every exit: softmax probabilities per exit as flat Float32Arrays. */
import * as tf from "@tensorflow/tfjs";

export interface ImageSet {
  readonly images: Float32Array;
  readonly count: number;
}

/**
 * probs[m] is [count * classes] row-major softmax of exit m. Runs in inference mode
 * (batch norm uses running statistics, dropout is off).
 */
export function predictProbs(model: tf.LayersModel, data: ImageSet, shape: readonly number[], batchSize = 256): Float32Array[] {
  const exits = model.outputs.length;
  const classes = model.outputs[0]!.shape[model.outputs[0]!.shape.length - 1] as number;
  const probs = Array.from({ length: exits }, () => new Float32Array(data.count * classes));
  const pixels = shape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < data.count; start += batchSize) {
    const n = Math.min(batchSize, data.count - start);
    const outputs = tf.tidy(() => {
      const x = tf.tensor(data.images.subarray(start * pixels, (start + n) * pixels), [n, ...shape]);
      const logits = model.predict(x, { batchSize: n }) as tf.Tensor | tf.Tensor[];
      return (Array.isArray(logits) ? logits : [logits]).map((l) => tf.softmax(l));
    });
    outputs.forEach((p, m) => {
      probs[m]!.set(p.dataSync() as Float32Array, start * classes);
      p.dispose();
    });
  }
  return probs;
}

/** Top-1 accuracy of one exit's probabilities (first argmax wins ties). */
export function top1(probs: Float32Array, labels: Int32Array, classes: number): number {
  if (labels.length === 0) return 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probs[i * classes + k]! > probs[i * classes + best]!) best = k;
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}
