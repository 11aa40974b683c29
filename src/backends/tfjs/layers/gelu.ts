import * as tf from "@tensorflow/tfjs";

type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];

/**
 * GELU in its exact erf form, x * 0.5 * (1 + erf(x / sqrt 2)).
 *
 * tfjs ships a `gelu` activation, but we own this one so the formula is pinned (the ONNX
 * exporter emits the same erf form, and PyTorch's default `nn.GELU()` is also the erf form).
 */
export class Gelu extends tf.layers.Layer {
  static readonly className = "MexGelu";

  constructor(args?: LayerArgs) {
    super(args ?? {});
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => gelu(singleTensor(inputs, "MexGelu")));
  }
}

/** The exact GELU as a tensor function (shared with tests). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5));
}

export function singleTensor(inputs: tf.Tensor | tf.Tensor[], layer: string): tf.Tensor {
  if (!Array.isArray(inputs)) return inputs;
  if (inputs.length !== 1) throw new Error(`${layer} expects exactly one input tensor, got ${inputs.length}`);
  return inputs[0]!;
}

tf.serialization.registerClass(Gelu);
