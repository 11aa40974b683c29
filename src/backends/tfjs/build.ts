/**
 * Checked model IR -> tf.LayersModel (functional API).
 *
 * The model has one input (named `input`) and one output per exit, in exit order. Every IR node
 * becomes exactly one tfjs layer with the node's name (tfjs accepts `/` in layer names, and
 * save/load keeps them, so no name mapping is needed): ops map to their layer, a residual to the
 * `add` layer that joins body and shortcut, a concat to the `concatenate` layer. Each exit ends in
 * a linear (identity) activation layer named after the exit, so `model.outputNames` are the exit
 * names. Outputs are logits (no softmax).
 *
 * Dilated convolutions are built from space-to-batch + conv + batch-to-space (MexConv2D)
 * because tfjs-core has no gradient for dilated conv2d / depthwiseConv2d.
 *
 * Initialisation is a pure function of (seed, layer name): conv and dense kernels are he-normal
 * with a per-layer seed, biases zero, batch norm gamma 1 / beta 0 / mean 0 / variance 1. The random
 * numbers come from tfjs-core's seeded JS generator, so weights do not depend on the backend.
 * Dropout (MexDropout) draws its masks from (seed, layer name, training step) the same way.
 */
import * as tf from "@tensorflow/tfjs";
import { allNodes, type LayerNode, type ModelIR, type OpNode, type OpNodeOf, type Shape } from "../../ir/model.js";
import { Gelu, MexConv2D, MexDropout } from "./layers/index.js";

/** Name of the model's single input layer. */
export const INPUT_NAME = "input";

export interface BuildOptions {
  /** Initialisation seed; the same seed gives the same weights. */
  readonly seed: number;
}

/** A failure to turn IR into tfjs layers: unsupported arguments or a shape the checker got wrong. */
export class TfjsBuildError extends Error {
  constructor(
    message: string,
    /** IR node (or exit/stage) name the error is about, when there is one. */
    readonly node?: string,
  ) {
    super(message);
    this.name = "TfjsBuildError";
  }
}

/** Resolves an IR node to the tfjs layer that computes it (for blocks: the merge layer). */
export type LayerOf = (node: LayerNode) => tf.layers.Layer;

/**
 * Build the full multi-exit model. Throws `TfjsBuildError` for IR the tfjs backend cannot
 * express (stride > 1 with dilation > 1) and, as an internal error, when a tfjs layer's output
 * shape differs from the IR's (the checker's shape inference and tfjs disagree).
 */
export function buildModel(ir: ModelIR, opts: BuildOptions): tf.LayersModel {
  checkNames(ir);
  const layerOf = creatingLayerOf(opts.seed);
  const input = tf.input({ shape: [...ir.input], name: INPUT_NAME });
  const stageOutputs: tf.SymbolicTensor[] = [];
  let x = input;
  for (const stage of ir.stages) {
    x = applyNodes(stage.nodes, x, layerOf);
    expectShape(x, stage.outShape, `stage ${stage.name} output`, stage.name);
    stageOutputs.push(x);
  }
  const outputs = ir.exits.map((exit) => {
    const features = stageOutputs[exit.stageIndex];
    if (!features) throw new TfjsBuildError(`exit ${exit.name} is attached to stage index ${exit.stageIndex}, which does not exist`, exit.name);
    const logits = applyHead(exit.head, features, layerOf, outputLayer(exit.name));
    expectShape(logits, exit.outShape, `exit ${exit.name} output`, exit.name);
    return logits;
  });
  const model = tf.model({ inputs: input, outputs, name: ir.name });
  const mismatches = verifyShapes(ir, model);
  if (mismatches.length > 0) {
    const lines = mismatches.map((m) => `  ${m.name}: tfjs ${fmt(m.actual)}, IR ${fmt(m.expected)}`);
    throw new TfjsBuildError(`internal error: tfjs layer output shapes differ from the IR's:\n${lines.join("\n")}`, mismatches[0]!.name);
  }
  return model;
}

/** Apply a node list to `x` in order. */
export function applyNodes(nodes: readonly LayerNode[], x: tf.SymbolicTensor, layerOf: LayerOf): tf.SymbolicTensor {
  let h = x;
  for (const node of nodes) h = applyNode(node, h, layerOf);
  return h;
}

/** Apply an exit head and its named identity output layer. */
export function applyHead(head: readonly LayerNode[], features: tf.SymbolicTensor, layerOf: LayerOf, output: tf.layers.Layer): tf.SymbolicTensor {
  return output.apply(applyNodes(head, features, layerOf)) as tf.SymbolicTensor;
}

/** The identity layer that names an exit's output. */
export function outputLayer(exitName: string): tf.layers.Layer {
  return tf.layers.activation({ activation: "linear", name: exitName });
}

function applyNode(node: LayerNode, x: tf.SymbolicTensor, layerOf: LayerOf): tf.SymbolicTensor {
  const y = applyLayer(node, x, layerOf);
  // Checked per node so the first disagreement is reported, not a later tfjs failure it causes.
  expectShape(y, node.outShape, node.name, node.name);
  return y;
}

function applyLayer(node: LayerNode, x: tf.SymbolicTensor, layerOf: LayerOf): tf.SymbolicTensor {
  try {
    switch (node.kind) {
      case "op":
        return layerOf(node).apply(x) as tf.SymbolicTensor;
      case "residual": {
        const body = applyNodes(node.body, x, layerOf);
        const shortcut = applyNodes(node.shortcut, x, layerOf);
        return layerOf(node).apply([body, shortcut]) as tf.SymbolicTensor;
      }
      case "concat": {
        const body = applyNodes(node.body, x, layerOf);
        return layerOf(node).apply([x, body]) as tf.SymbolicTensor;
      }
    }
  } catch (e) {
    if (e instanceof TfjsBuildError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new TfjsBuildError(`${node.name}: tfjs rejected the layer: ${message}`, node.name);
  }
}

/** A LayerOf that creates fresh, deterministically initialised layers. */
function creatingLayerOf(seed: number): LayerOf {
  return (node) => {
    switch (node.kind) {
      case "op":
        return createOpLayer(node, seed);
      case "residual":
        return tf.layers.add({ name: node.name });
      case "concat":
        return tf.layers.concatenate({ axis: -1, name: node.name });
    }
  };
}

/** The tfjs layer for one primitive op. */
export function createOpLayer(node: OpNode, seed: number): tf.layers.Layer {
  const name = node.name;
  switch (node.op) {
    case "conv":
      return createConvLayer(node, layerSeed(seed, name));
    case "dense":
      return tf.layers.dense({
        units: node.args.units,
        useBias: node.args.bias,
        kernelInitializer: tf.initializers.heNormal({ seed: layerSeed(seed, name) }),
        biasInitializer: "zeros",
        name,
      });
    case "bn":
      // tfjs (Keras) momentum is the weight of the old running value; the IR uses PyTorch's.
      return tf.layers.batchNormalization({
        axis: -1,
        epsilon: node.args.epsilon,
        momentum: 1 - node.args.momentum,
        gammaInitializer: "ones",
        betaInitializer: "zeros",
        movingMeanInitializer: "zeros",
        movingVarianceInitializer: "ones",
        name,
      });
    case "relu":
      return tf.layers.reLU({ name });
    case "relu6":
      return tf.layers.reLU({ maxValue: 6, name });
    case "gelu":
      return new Gelu({ name });
    case "sigmoid":
      return tf.layers.activation({ activation: "sigmoid", name });
    case "tanh":
      return tf.layers.activation({ activation: "tanh", name });
    case "maxpool":
      return tf.layers.maxPooling2d({ poolSize: [...node.args.size], strides: [...node.args.stride], padding: node.args.padding, name });
    case "avgpool":
      return tf.layers.averagePooling2d({ poolSize: [...node.args.size], strides: [...node.args.stride], padding: node.args.padding, name });
    case "gap":
      return tf.layers.globalAveragePooling2d({ name });
    case "flatten":
      return tf.layers.flatten({ name });
    case "dropout":
      // Not tf.layers.dropout: unseeded it breaks "same seed, same numbers"; seeded it repeats one mask.
      return new MexDropout({ rate: node.args.rate, seed: layerSeed(seed, name), name });
  }
}

/** Which tfjs layer a conv node becomes. */
export type ConvFlavour = "conv2d" | "depthwise" | "mex";

/**
 * Undilated groups == 1: tf.layers.conv2d; undilated groups == input channels (> 1):
 * tf.layers.depthwiseConv2d; everything else (other groups, and any dilation > 1, which
 * tfjs-core cannot differentiate) the custom MexConv2D. Kernel layouts are the same in all three
 * (see weights.ts).
 */
export function convFlavour(node: OpNodeOf<"conv">): ConvFlavour {
  const inC = node.inShape[node.inShape.length - 1]!;
  const { groups, dilation } = node.args;
  const dilated = dilation[0] > 1 || dilation[1] > 1;
  if (dilated) return "mex";
  if (groups === 1) return "conv2d";
  if (groups === inC) return "depthwise";
  return "mex";
}

function createConvLayer(node: OpNodeOf<"conv">, seed: number): tf.layers.Layer {
  const { filters, kernel, stride, padding, dilation, groups, bias } = node.args;
  const name = node.name;
  const inC = node.inShape[node.inShape.length - 1]!;
  if ((stride[0] > 1 || stride[1] > 1) && (dilation[0] > 1 || dilation[1] > 1)) {
    throw new TfjsBuildError(
      `${name}: stride [${stride.join(", ")}] with dilation [${dilation.join(", ")}] is not supported by tfjs convolutions; use stride 1 or dilation 1 (e.g. follow with a pool)`,
      name,
    );
  }
  if (inC % groups !== 0 || filters % groups !== 0) {
    throw new TfjsBuildError(`${name}: groups ${groups} must divide input channels ${inC} and filters ${filters}`, name);
  }
  const common = {
    kernelSize: [kernel[0], kernel[1]] as [number, number],
    strides: [stride[0], stride[1]] as [number, number],
    padding,
    useBias: bias,
    biasInitializer: "zeros" as const,
    name,
  };
  switch (convFlavour(node)) {
    case "conv2d":
      return tf.layers.conv2d({ ...common, filters, kernelInitializer: tf.initializers.heNormal({ seed }) });
    case "depthwise":
      return tf.layers.depthwiseConv2d({
        ...common,
        depthMultiplier: filters / inC,
        depthwiseInitializer: tf.initializers.heNormal({ seed }),
      });
    case "mex":
      return new MexConv2D({
        filters,
        kernelSize: [kernel[0], kernel[1]],
        strides: [stride[0], stride[1]],
        padding,
        dilationRate: [dilation[0], dilation[1]],
        groups,
        useBias: bias,
        seed,
        name,
      });
  }
}

/**
 * Per-layer initialiser seed: FNV-1a (32-bit) of "<seed>:<layer name>", so a layer's initial
 * weights depend only on the model seed and its own name (adding a layer elsewhere does not
 * reshuffle them).
 */
export function layerSeed(seed: number, layerName: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(`${seed}:${layerName}`, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export interface ShapeMismatch {
  readonly name: string;
  /** With the batch axis (null). */
  readonly expected: readonly (number | null)[];
  readonly actual: readonly (number | null)[];
}

/**
 * Compare each IR node's outShape (and each exit's) with the output shape of the tfjs layer of
 * the same name. Returns the mismatches (empty when all agree); a missing layer is a mismatch
 * with an empty actual shape.
 */
export function verifyShapes(ir: ModelIR, model: tf.LayersModel): ShapeMismatch[] {
  const mismatches: ShapeMismatch[] = [];
  const check = (name: string, shape: Shape) => {
    const expected = [null, ...shape];
    const actual = layerOutputShape(model, name);
    if (!sameShape(expected, actual)) mismatches.push({ name, expected, actual });
  };
  for (const node of allNodes(ir)) check(node.name, node.outShape);
  for (const exit of ir.exits) check(exit.name, exit.outShape);
  return mismatches;
}

function layerOutputShape(model: tf.LayersModel, name: string): (number | null)[] {
  const layer = model.layers.find((l) => l.name === name);
  if (!layer) return [];
  const shape = layer.outputShape;
  return (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
}

function expectShape(x: tf.SymbolicTensor, shape: Shape, what: string, name: string): void {
  const expected = [null, ...shape];
  if (!sameShape(expected, x.shape)) {
    throw new TfjsBuildError(
      `internal error: ${what}: tfjs output shape ${fmt(x.shape)} differs from the IR's ${fmt(expected)} (the checker's shape inference and tfjs disagree)`,
      name,
    );
  }
}

function sameShape(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function fmt(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? "batch" : d)).join(", ")}]`;
}

/** Layer names must be unique, and the input and exit output layers must not collide with nodes. */
function checkNames(ir: ModelIR): void {
  const seen = new Set<string>([INPUT_NAME]);
  const claim = (name: string) => {
    if (seen.has(name)) throw new TfjsBuildError(`internal error: layer name "${name}" is used twice`, name);
    seen.add(name);
  };
  for (const node of allNodes(ir)) claim(node.name);
  for (const exit of ir.exits) claim(exit.name);
}
