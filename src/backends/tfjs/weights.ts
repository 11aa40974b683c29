/**
 * Weights of a built model as plain arrays, keyed by IR node name and role. The ONNX exporter
 * reads these; the trainer can snapshot and restore them (best-validation checkpoints).
 *
 * Roles and layouts (tfjs layouts, channels last; all float32):
 * - conv, groups == 1        kernel [kh, kw, inC, outC]            bias [outC]
 *   (the same whichever tfjs layer computes the conv: Conv2D, DepthwiseConv2D or MexConv2D)
 * - conv, depthwise          kernel [kh, kw, inC, mult]            bias [inC * mult]
 *   (groups == inC > 1, filters = inC * mult; output channel c * mult + m reads input channel c)
 * - conv, other groups       kernel [kh, kw, inC / groups, outC]   bias [outC]
 *   (output channel o is in group g = floor(o / (outC / groups)) and reads input channels
 *   g * inC/groups ... (g + 1) * inC/groups - 1)
 *   ONNX / PyTorch weight [outC, inC/groups, kh, kw]: transpose groups==1 and grouped kernels
 *   with perm [3, 2, 0, 1]; a depthwise kernel reshapes to [kh, kw, 1, inC * mult] first (the
 *   reshape keeps the c * mult + m channel order), then the same transpose.
 * - dense                    kernel [in, out]                       bias [out]
 *   (ONNX Gemm with transB = 0 takes it as is. After a `flatten` of an [H, W, C] tensor the
 *   `in` rows are in (h, w, c) order, channels last; an NCHW exporter must permute them.)
 * - bn                       gamma, beta, movingMean, movingVariance, each [C]
 * `bias` is absent when the IR node has bias = false. Nodes without weights have no entry.
 */
import * as tf from "@tensorflow/tfjs";

export type WeightRole = "kernel" | "bias" | "gamma" | "beta" | "movingMean" | "movingVariance";

export interface WeightArray {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** IR node name -> role -> values. */
export type ModelWeights = Map<string, Partial<Record<WeightRole, WeightArray>>>;

/** tfjs weight names (the last path segment of a LayerVariable's originalName) -> role. */
const ROLE_OF_TFJS_NAME: Readonly<Record<string, WeightRole>> = {
  kernel: "kernel",
  depthwise_kernel: "kernel",
  bias: "bias",
  gamma: "gamma",
  beta: "beta",
  moving_mean: "movingMean",
  moving_variance: "movingVariance",
};

/** Copy every layer's weights out of the model (synchronously; the data are copies). */
export function extractWeights(model: tf.LayersModel): ModelWeights {
  const out: ModelWeights = new Map();
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.getWeights();
    const roles: Partial<Record<WeightRole, WeightArray>> = {};
    layer.weights.forEach((variable, i) => {
      const role = roleOf(layer.name, variable.originalName);
      const tensor = values[i]!;
      roles[role] = { shape: [...tensor.shape], data: Float32Array.from(tensor.dataSync()) };
    });
    out.set(layer.name, roles);
  }
  return out;
}

/**
 * Set the model's weights from `weights` (as produced by `extractWeights`). Every layer with
 * weights must have an entry with every role, of the same shape; extra entries are an error too,
 * so a checkpoint from a different spec cannot load silently.
 */
export function loadWeightsInto(model: tf.LayersModel, weights: ModelWeights): void {
  const problems: string[] = [];
  const used = new Set<string>();
  const pending: [tf.layers.Layer, tf.Tensor[]][] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const entry = weights.get(layer.name);
    if (!entry) {
      problems.push(`${layer.name}: no weights given`);
      continue;
    }
    used.add(layer.name);
    const tensors: tf.Tensor[] = [];
    for (const variable of layer.weights) {
      const role = roleOf(layer.name, variable.originalName);
      const value = entry[role];
      if (!value) {
        problems.push(`${layer.name}: missing ${role}`);
      } else if (!sameShape(value.shape, variable.shape)) {
        problems.push(`${layer.name}: ${role} has shape [${value.shape.join(", ")}], the layer needs [${variable.shape.join(", ")}]`);
      } else if (value.data.length !== value.shape.reduce((a, b) => a * b, 1)) {
        problems.push(`${layer.name}: ${role} has ${value.data.length} values for shape [${value.shape.join(", ")}]`);
      } else {
        tensors.push(tf.tensor(value.data, value.shape, "float32"));
      }
    }
    const extra = Object.keys(entry).filter((role) => !layer.weights.some((v) => roleOf(layer.name, v.originalName) === role));
    for (const role of extra) problems.push(`${layer.name}: unexpected ${role}`);
    pending.push([layer, tensors]);
  }
  for (const name of weights.keys()) if (!used.has(name)) problems.push(`${name}: no such layer with weights in the model`);
  // All or nothing: a failed load leaves the model as it was.
  if (problems.length === 0) for (const [layer, tensors] of pending) layer.setWeights(tensors);
  tf.dispose(pending.flatMap(([, tensors]) => tensors));
  if (problems.length > 0) throw new Error(`cannot load weights:\n  ${problems.join("\n  ")}`);
}

function roleOf(layerName: string, variableName: string): WeightRole {
  const last = variableName.slice(variableName.lastIndexOf("/") + 1);
  const role = ROLE_OF_TFJS_NAME[last];
  if (!role) throw new Error(`internal error: layer ${layerName} has a weight "${variableName}" with no known role`);
  return role;
}

function sameShape(a: readonly number[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
