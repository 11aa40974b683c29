/**
 * IR nodes -> ONNX nodes, one graph scope at a time.
 *
 * Layout: an IR image [H, W, C] is carried as NCHW inside the graph (ONNX's conv and pool
 * layout); every other per-example rank ("native" values, e.g. vectors [F]) keeps the tfjs layout
 * unchanged. The graph input is NHWC like tfjs and is transposed once; `flatten` of an image
 * transposes back to NHWC first so the flattened feature order is tfjs's (h, w, c) order and dense
 * kernels are used as they are.
 *
 * Batch norm is exported as BatchNormalization (not folded into the preceding conv): the graph
 * then holds the trained tensors unchanged, and ONNX Runtime fuses Conv + BatchNormalization itself
 * when it optimises the graph.
 *
 * Naming: the value an IR node produces is named after the node (`s1/conv`), its weights
 * `<node>/<role>`, helper values `<node>/<what>`. IR names are unique, so names are stable and
 * collision-free.
 */
import type { LayerNode, OpNode, OpNodeOf, Shape } from "../../ir/model.js";
import type { ModelWeights, WeightArray, WeightRole } from "../tfjs/weights.js";
import { floatTensor, node, type AttrValue, type NodeProto, type TensorProto } from "./proto.js";

/** A failure to express the IR (or its weights) in ONNX. Never produces a partial graph. */
export class OnnxExportError extends Error {
  constructor(
    message: string,
    /** IR node the error is about, when there is one. */
    readonly node?: string,
  ) {
    super(message);
    this.name = "OnnxExportError";
  }
}

/** A graph value: its name, per-example IR shape and how it is laid out. */
export interface Value {
  readonly name: string;
  /** IR shape (channels last, no batch). */
  readonly shape: Shape;
  /** "nchw": a rank-3 IR image stored as [N, C, H, W]; "native": [N, ...shape] as in tfjs. */
  readonly layout: "nchw" | "native";
}

/** State shared by every scope of one model: the weights, the opset, every initialiser name. */
export class ExportContext {
  /** Names of all initialisers in all scopes (they must be unique across the model). */
  readonly initializerNames = new Set<string>();

  constructor(
    readonly weights: ModelWeights,
    readonly opset: number,
  ) {}

  /** The weight of `nodeName` with `role`, checked against the expected shape. */
  weight(nodeName: string, role: WeightRole, shape: readonly number[]): WeightArray {
    const entry = this.weights.get(nodeName)?.[role];
    if (!entry) throw new OnnxExportError(`${nodeName}: no ${role} weights were given`, nodeName);
    const same = entry.shape.length === shape.length && entry.shape.every((d, i) => d === shape[i]);
    if (!same || entry.data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new OnnxExportError(`${nodeName}: ${role} has shape [${entry.shape.join(", ")}], the IR needs [${shape.join(", ")}]`, nodeName);
    }
    return entry;
  }

  hasWeight(nodeName: string, role: WeightRole): boolean {
    return this.weights.get(nodeName)?.[role] !== undefined;
  }
}

/**
 * Collects the nodes and initialisers of one graph (the main graph or an `If` branch).
 *
 * Weights live in the scope whose nodes use them, not in the main graph: ONNX Runtime treats an
 * outer-scope value as a runtime input of a subgraph, so a branch reading its conv weights from
 * the main graph would lose constant folding, Conv + BatchNormalization fusion and weight
 * pre-packing (measured on fashion-3exit with every example reaching the last exit: 1.4x the
 * full graph's latency with the weights in the main graph, 0.9-1.0x with them in the branches).
 */
export class Scope {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly local = new Set<string>();

  constructor(
    readonly ctx: ExportContext,
    /** Prefix of this scope's shared constants ("" in the main graph), keeping names unique model-wide. */
    readonly prefix = "",
  ) {}

  emit(opType: string, name: string, inputs: readonly string[], outputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}): void {
    this.nodes.push(node(opType, name, inputs, outputs, attrs));
  }

  /** A single-output node whose output value has the node's name. */
  op(opType: string, name: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}): string {
    this.emit(opType, name, inputs, [name], attrs);
    return name;
  }

  /** Add an initialiser to this scope (once: shared constants are requested from several places). */
  initializer(tensor: TensorProto): string {
    const name = tensor.name!;
    if (this.local.has(name)) return name;
    if (this.ctx.initializerNames.has(name)) throw new OnnxExportError(`internal error: initialiser ${name} is defined twice`);
    this.local.add(name);
    this.ctx.initializerNames.add(name);
    this.initializers.push(tensor);
    return name;
  }

  /** A float scalar constant of this scope, named by its value. */
  scalar(value: number): string {
    return this.initializer(floatTensor(`${this.prefix}mex/const/${value}`, [], Float32Array.of(value)));
  }
}

/** Apply IR nodes in order. */
export function lowerNodes(nodes: readonly LayerNode[], x: Value, scope: Scope): Value {
  let h = x;
  for (const n of nodes) h = lowerNode(n, h, scope);
  return h;
}

function lowerNode(n: LayerNode, x: Value, scope: Scope): Value {
  switch (n.kind) {
    case "op":
      return lowerOp(n, x, scope);
    case "residual": {
      const body = lowerNodes(n.body, x, scope);
      const shortcut = lowerNodes(n.shortcut, x, scope);
      if (body.layout !== shortcut.layout) throw new OnnxExportError(`${n.name}: body and shortcut disagree in rank`, n.name);
      return { name: scope.op("Add", n.name, [body.name, shortcut.name]), shape: n.outShape, layout: body.layout };
    }
    case "concat": {
      const body = lowerNodes(n.body, x, scope);
      if (body.layout !== x.layout) throw new OnnxExportError(`${n.name}: body and input disagree in rank`, n.name);
      // Channels: axis 1 in NCHW; the last axis (as tfjs) otherwise.
      const axis = x.layout === "nchw" ? 1 : -1;
      return { name: scope.op("Concat", n.name, [x.name, body.name], { axis: { int: axis } }), shape: n.outShape, layout: x.layout };
    }
  }
}

/** The layout a value of this IR shape has inside the graph. */
export function layoutOf(shape: Shape): Value["layout"] {
  return shape.length === 3 ? "nchw" : "native";
}

function lowerOp(n: OpNode, x: Value, scope: Scope): Value {
  const out = (name: string): Value => ({ name, shape: n.outShape, layout: layoutOf(n.outShape) });
  const name = n.name;
  switch (n.op) {
    case "conv":
      return out(lowerConv(n, x, scope));
    case "dense":
      return out(lowerDense(n, x, scope));
    case "bn":
      return out(lowerBn(n, x, scope));
    case "relu":
      return out(scope.op("Relu", name, [x.name]));
    case "relu6":
      return out(scope.op("Clip", name, [x.name, scope.scalar(0), scope.scalar(6)]));
    case "gelu":
      return out(lowerGelu(name, x.name, scope));
    case "sigmoid":
      return out(scope.op("Sigmoid", name, [x.name]));
    case "tanh":
      return out(scope.op("Tanh", name, [x.name]));
    case "maxpool":
    case "avgpool":
      return out(lowerPool(n, x, scope));
    case "gap": {
      requireImage(n, x);
      const pooled = scope.op("GlobalAveragePool", `${name}/pool`, [x.name]);
      return out(scope.op("Flatten", name, [pooled], { axis: { int: 1 } }));
    }
    case "flatten": {
      // Back to NHWC so the flattened order is tfjs's (h, w, c).
      const source = x.layout === "nchw" ? scope.op("Transpose", `${name}/nhwc`, [x.name], { perm: { ints: [0, 2, 3, 1] } }) : x.name;
      return out(scope.op("Flatten", name, [source], { axis: { int: 1 } }));
    }
    case "dropout":
      // Inference: dropout is the identity. Kept as a node so the graph shows the IR's layer.
      return out(scope.op("Identity", name, [x.name]));
  }
}

function requireImage(n: OpNode, x: Value): void {
  if (x.layout !== "nchw") throw new OnnxExportError(`${n.name}: ${n.op} needs an image input ([h, w, c]), got [${x.shape.join(", ")}]`, n.name);
}

/**
 * Explicit pads for TensorFlow's "same": total = max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0),
 * floor(total / 2) before and the rest after. Returns [before, after].
 */
export function samePads(inLen: number, outLen: number, kernel: number, stride: number, dilation: number): [number, number] {
  const total = Math.max((outLen - 1) * stride + (kernel - 1) * dilation + 1 - inLen, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX `pads` [top, left, bottom, right] for a window op. */
function windowPads(padding: "same" | "valid", inShape: Shape, outShape: Shape, kernel: readonly [number, number], stride: readonly [number, number], dilation: readonly [number, number]): number[] {
  if (padding === "valid") return [0, 0, 0, 0];
  const [top, bottom] = samePads(inShape[0]!, outShape[0]!, kernel[0], stride[0], dilation[0]);
  const [left, right] = samePads(inShape[1]!, outShape[1]!, kernel[1], stride[1], dilation[1]);
  return [top, left, bottom, right];
}

function lowerConv(n: OpNodeOf<"conv">, x: Value, scope: Scope): string {
  requireImage(n, x);
  const { filters, kernel, stride, padding, dilation, groups, bias } = n.args;
  const inC = n.inShape[2]!;
  if (inC % groups !== 0 || filters % groups !== 0) {
    throw new OnnxExportError(`${n.name}: groups ${groups} must divide input channels ${inC} and filters ${filters}`, n.name);
  }
  const [kh, kw] = kernel;
  // weights.ts layouts: depthwise [kh, kw, inC, mult]; otherwise [kh, kw, inC / groups, outC].
  const depthwise = groups === inC && inC > 1;
  const tfShape = depthwise ? [kh, kw, inC, filters / inC] : [kh, kw, inC / groups, filters];
  const w = scope.ctx.weight(n.name, "kernel", tfShape);
  // Depthwise [kh, kw, inC, mult] read as [kh, kw, 1, inC * mult] keeps output channel c * mult + m,
  // which is ONNX's order for group = inC; then HWIO -> OIHW.
  const hwio = depthwise ? [kh, kw, 1, filters] : tfShape;
  const oihw = transpose4(w.data, hwio, [3, 2, 0, 1]);
  const inputs = [x.name, scope.initializer(floatTensor(`${n.name}/kernel`, oihw.shape, oihw.data))];
  if (bias) inputs.push(scope.initializer(floatTensor(`${n.name}/bias`, [filters], scope.ctx.weight(n.name, "bias", [filters]).data)));
  else if (scope.ctx.hasWeight(n.name, "bias")) throw new OnnxExportError(`${n.name}: has bias weights but the IR says bias=false`, n.name);
  return scope.op("Conv", n.name, inputs, {
    dilations: { ints: [dilation[0], dilation[1]] },
    group: { int: groups },
    kernel_shape: { ints: [kh, kw] },
    pads: { ints: windowPads(padding, n.inShape, n.outShape, kernel, stride, dilation) },
    strides: { ints: [stride[0], stride[1]] },
  });
}

function lowerDense(n: OpNodeOf<"dense">, x: Value, scope: Scope): string {
  if (x.shape.length !== 1) throw new OnnxExportError(`${n.name}: dense needs a vector input, got [${x.shape.join(", ")}]`, n.name);
  const inF = x.shape[0]!;
  const { units, bias } = n.args;
  const w = scope.ctx.weight(n.name, "kernel", [inF, units]);
  const inputs = [x.name, scope.initializer(floatTensor(`${n.name}/kernel`, [inF, units], w.data))];
  if (bias) inputs.push(scope.initializer(floatTensor(`${n.name}/bias`, [units], scope.ctx.weight(n.name, "bias", [units]).data)));
  else if (scope.ctx.hasWeight(n.name, "bias")) throw new OnnxExportError(`${n.name}: has bias weights but the IR says bias=false`, n.name);
  // Gemm with transB = 0 takes the tfjs [in, out] kernel as it is.
  return scope.op("Gemm", n.name, inputs, { alpha: { float: 1 }, beta: { float: 1 }, transA: { int: 0 }, transB: { int: 0 } });
}

function lowerBn(n: OpNodeOf<"bn">, x: Value, scope: Scope): string {
  // BatchNormalization normalises axis 1: the channels of NCHW, the features of [N, F].
  if (x.layout !== "nchw" && x.shape.length !== 1) {
    throw new OnnxExportError(`${n.name}: bn on a [${x.shape.join(", ")}] tensor (neither an image nor a vector) has no ONNX equivalent here`, n.name);
  }
  const c = x.shape[x.shape.length - 1]!;
  const roles: WeightRole[] = ["gamma", "beta", "movingMean", "movingVariance"];
  const inputs = roles.map((role) => scope.initializer(floatTensor(`${n.name}/${role}`, [c], scope.ctx.weight(n.name, role, [c]).data)));
  return scope.op("BatchNormalization", n.name, [x.name, ...inputs], { epsilon: { float: n.args.epsilon } });
}

/** x * 0.5 * (1 + erf(x / sqrt 2)), in the order the tfjs Gelu layer computes it. */
function lowerGelu(name: string, x: string, scope: Scope): string {
  const scaled = scope.op("Mul", `${name}/scaled`, [x, scope.scalar(Math.SQRT1_2)]);
  const erf = scope.op("Erf", `${name}/erf`, [scaled]);
  const onePlus = scope.op("Add", `${name}/one_plus`, [erf, scope.scalar(1)]);
  const times = scope.op("Mul", `${name}/times_x`, [x, onePlus]);
  return scope.op("Mul", name, [times, scope.scalar(0.5)]);
}

function lowerPool(n: OpNodeOf<"maxpool"> | OpNodeOf<"avgpool">, x: Value, scope: Scope): string {
  requireImage(n, x);
  const { size, stride, padding } = n.args;
  const attrs: Record<string, AttrValue> = {
    kernel_shape: { ints: [size[0], size[1]] },
    pads: { ints: windowPads(padding, n.inShape, n.outShape, size, stride, [1, 1]) },
    strides: { ints: [stride[0], stride[1]] },
  };
  // TensorFlow's "same" average divides by the number of real (unpadded) inputs in the window.
  if (n.op === "avgpool") return scope.op("AveragePool", n.name, [x.name], { count_include_pad: { int: 0 }, ...attrs });
  return scope.op("MaxPool", n.name, [x.name], attrs);
}

/** Transpose a dense row-major 4-D array. */
export function transpose4(data: Float32Array, shape: readonly number[], perm: readonly [number, number, number, number]): { shape: number[]; data: Float32Array } {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = [shape[1]! * shape[2]! * shape[3]!, shape[2]! * shape[3]!, shape[3]!, 1];
  const s = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  let k = 0;
  for (let a = 0; a < outShape[0]!; a++)
    for (let b = 0; b < outShape[1]!; b++)
      for (let c = 0; c < outShape[2]!; c++)
        for (let d = 0; d < outShape[3]!; d++) out[k++] = data[a * s[0]! + b * s[1]! + c * s[2]! + d * s[3]!]!;
  return { shape: outShape, data: out };
}
