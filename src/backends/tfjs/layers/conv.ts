import * as tf from "@tensorflow/tfjs";
import type { Padding } from "../../../ir/model.js";
import { singleTensor } from "./gelu.js";

type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];

export interface MexConv2DArgs {
  /** Output channels; a multiple of `groups`. */
  readonly filters: number;
  /** [kh, kw]. */
  readonly kernelSize: readonly [number, number];
  /** [sh, sw]. Must be [1, 1] when dilationRate is not [1, 1]. */
  readonly strides: readonly [number, number];
  readonly padding: Padding;
  /** [dh, dw]. */
  readonly dilationRate: readonly [number, number];
  /** Channel groups (>= 1); the input channels are a multiple of it. */
  readonly groups: number;
  readonly useBias: boolean;
  /** Seed of the he-normal kernel initialiser (the bias starts at zero). */
  readonly seed: number;
}

/**
 * A 2-D convolution for the cases tfjs-layers cannot express or cannot train:
 * - grouped convolutions (1 < groups < input channels): one conv per group, concatenated;
 * - dilated convolutions of any groups: tfjs-core has no gradient for dilated conv2d or
 *   depthwiseConv2d (it asserts dilation 1), so dilation is done the way TensorFlow does
 *   atrous convolution: space-to-batch, an undilated 'valid' conv, batch-to-space. Every op in
 *   that chain has a gradient on every backend. (tfjs-layers' DepthwiseConv2D also ignores its
 *   dilation rate in the forward pass.)
 *
 * Kernel layout (what `weights.ts` exports), the native tfjs layout of the equivalent op:
 * - groups == 1:               [kh, kw, inC, outC] (as tf.layers.conv2d);
 * - depthwise (groups == inC): [kh, kw, inC, outC / inC], output channel c * mult + m
 *   (as tf.layers.depthwiseConv2d);
 * - otherwise:                 [kh, kw, inC / groups, outC]; output channel o belongs to group
 *   floor(o / (outC / groups)) and reads input channels [g * inC/groups, (g+1) * inC/groups).
 */
export class MexConv2D extends tf.layers.Layer {
  static readonly className = "MexConv2D";

  readonly conv: MexConv2DArgs;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: MexConv2DArgs & LayerArgs) {
    super(args);
    this.conv = {
      filters: args.filters,
      kernelSize: [args.kernelSize[0], args.kernelSize[1]],
      strides: [args.strides[0], args.strides[1]],
      padding: args.padding,
      dilationRate: [args.dilationRate[0], args.dilationRate[1]],
      groups: args.groups,
      useBias: args.useBias,
      seed: args.seed,
    };
    if (args.filters % args.groups !== 0) {
      throw new Error(`${this.name}: filters ${args.filters} is not a multiple of groups ${args.groups}`);
    }
    if (isDilated(this.conv) && (args.strides[0] > 1 || args.strides[1] > 1)) {
      throw new Error(`${this.name}: stride > 1 together with dilation > 1 is not supported`);
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const inC = channelsOf(inputShape, this.name);
    const { groups, filters, useBias, seed } = this.conv;
    if (inC % groups !== 0) throw new Error(`${this.name}: input channels ${inC} are not a multiple of groups ${groups}`);
    this.kernel = this.addWeight("kernel", kernelShape(inC, this.conv), "float32", tf.initializers.heNormal({ seed }));
    if (useBias) this.bias = this.addWeight("bias", [filters], "float32", tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const { kernelSize, strides, padding, dilationRate, filters } = this.conv;
    const h = convOutputLength(shape[1] ?? null, kernelSize[0], padding, strides[0], dilationRate[0]);
    const w = convOutputLength(shape[2] ?? null, kernelSize[1], padding, strides[1], dilationRate[1]);
    return [shape[0] ?? null, h, w, filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs, MexConv2D.className) as tf.Tensor4D;
      const y = mexConv2d(x, this.kernel!.read() as tf.Tensor4D, this.conv);
      return this.bias ? y.add(this.bias.read()) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { filters, kernelSize, strides, padding, dilationRate, groups, useBias, seed } = this.conv;
    return {
      ...super.getConfig(),
      filters,
      kernelSize: [...kernelSize],
      strides: [...strides],
      padding,
      dilationRate: [...dilationRate],
      groups,
      useBias,
      seed,
    };
  }
}

/** The convolution arguments `mexConv2d` needs. */
export type ConvGeometryArgs = Pick<MexConv2DArgs, "strides" | "padding" | "dilationRate" | "groups">;

/** True when the conv is depthwise (one group per input channel, more than one channel). */
export function isDepthwise(inC: number, groups: number): boolean {
  return groups === inC && inC > 1;
}

function isDilated(conv: Pick<MexConv2DArgs, "dilationRate">): boolean {
  return conv.dilationRate[0] > 1 || conv.dilationRate[1] > 1;
}

function kernelShape(inC: number, conv: MexConv2DArgs): number[] {
  const [kh, kw] = conv.kernelSize;
  if (isDepthwise(inC, conv.groups)) return [kh, kw, inC, conv.filters / inC];
  return [kh, kw, inC / conv.groups, conv.filters];
}

/** Forward pass of MexConv2D (without bias), differentiable on every backend. */
export function mexConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, conv: ConvGeometryArgs): tf.Tensor4D {
  if (!isDilated(conv)) return undilatedConv(x, kernel, [conv.strides[0], conv.strides[1]], conv.padding, conv.groups);
  const [kh, kw] = [kernel.shape[0], kernel.shape[1]];
  const [dh, dw] = conv.dilationRate;
  const [padH, cropH] = atrousPadding(x.shape[1], kh, dh, conv.padding);
  const [padW, cropW] = atrousPadding(x.shape[2], kw, dw, conv.padding);
  const blocks = tf.spaceToBatchND(x, [dh, dw], [padH, padW]);
  const y = undilatedConv(blocks, kernel, [1, 1], "valid", conv.groups);
  return tf.batchToSpaceND(y, [dh, dw], [
    [0, cropH],
    [0, cropW],
  ]);
}

/**
 * Space-to-batch paddings for a stride-1 conv with dilation d along one axis: the conv's own
 * padding ('same': total (k - 1) * d, the extra one at the end, as TensorFlow pads), plus enough
 * at the end to make the padded length a multiple of d; that extra is cropped off afterwards.
 */
export function atrousPadding(length: number, kernel: number, dilation: number, padding: Padding): [[number, number], number] {
  const total = padding === "same" ? (kernel - 1) * dilation : 0;
  const before = Math.floor(total / 2);
  const after = total - before;
  const extra = (dilation - ((length + total) % dilation)) % dilation;
  return [[before, after + extra], extra];
}

function undilatedConv(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], padding: Padding, groups: number): tf.Tensor4D {
  const inC = x.shape[3];
  if (groups === 1) return tf.conv2d(x, kernel, strides, padding);
  if (isDepthwise(inC, groups)) return tf.depthwiseConv2d(x, kernel, strides, padding);
  const xs = tf.split(x, groups, 3);
  const ks = tf.split(kernel, groups, 3);
  return tf.concat4d(
    xs.map((xi, g) => tf.conv2d(xi as tf.Tensor4D, ks[g] as tf.Tensor4D, strides, padding)),
    3,
  );
}

/** tfjs-layers' output length rule (same: ceil(L / s); valid: ceil((L - dilated k + 1) / s)). */
export function convOutputLength(length: number | null, kernel: number, padding: Padding, stride: number, dilation: number): number | null {
  if (length === null) return null;
  const dilatedKernel = kernel + (kernel - 1) * (dilation - 1);
  const out = padding === "same" ? length : length - dilatedKernel + 1;
  return Math.floor((out + stride - 1) / stride);
}

function channelsOf(inputShape: tf.Shape | tf.Shape[], name: string): number {
  const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  const c = shape[shape.length - 1];
  if (shape.length !== 4 || c == null) throw new Error(`${name}: expects [batch, h, w, c] input with known channels, got [${shape.join(", ")}]`);
  return c;
}

tf.serialization.registerClass(MexConv2D);
