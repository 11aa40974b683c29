import * as tf from "@tensorflow/tfjs";
import { singleTensor } from "./gelu.js";

type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];

export interface MexDropoutArgs {
  readonly rate: number;
  /** The layer's own seed; the mask of a step is a function of (seed, step) only. */
  readonly seed: number;
}

/**
 * Inverted dropout whose mask is a pure function of (layer seed, training step).
 *
 * tfjs's own dropout is either unseeded (two runs with the same seed differ, and a resumed run
 * differs from an uninterrupted one) or seeded once (the same mask at every step). Here the
 * trainer sets the global step before each batch (`setDropoutStep`), so the same seed gives the
 * same numbers and `--resume` continues the exact mask sequence. Without the trainer (library
 * use), the step advances by one per training call.
 */
export class MexDropout extends tf.layers.Layer {
  static readonly className = "MexDropout";
  readonly rate: number;
  readonly seed: number;
  /** Step whose mask the next training call draws. */
  step = 0;

  constructor(args: MexDropoutArgs & LayerArgs) {
    super(args);
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`MexDropout rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.seed = args.seed;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = singleTensor(inputs, MexDropout.className);
    if (kwargs.training !== true || this.rate === 0) return tf.clone(x);
    const seed = dropoutSeed(this.seed, this.step++);
    return tf.tidy(() => {
      const keep = tf.randomUniform(x.shape, 0, 1, "float32", seed).greaterEqual(this.rate);
      return x.mul(keep.cast("float32")).div(1 - this.rate);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

/** Mixes (seed, step) into one 32-bit seed (splitmix-style finaliser, so nearby steps decorrelate). */
export function dropoutSeed(seed: number, step: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step >>> 0, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Points every MexDropout layer of `model` at global training step `step` (called by the trainer per batch). */
export function setDropoutStep(model: tf.LayersModel, step: number): void {
  for (const layer of model.layers) if (layer instanceof MexDropout) layer.step = step;
}

tf.serialization.registerClass(MexDropout);
