/**
 * Hand-made model IRs for the tfjs backend tests (the checker is written in parallel).
 *
 * Every op node's shapes and parameter counts below are written by hand (the arithmetic is in the
 * comments); block, stage, exit and model totals are sums of them. MACs are left at 0: the tfjs
 * backend never reads them.
 */
import type {
  ConcatNode,
  ConvArgs,
  ExitIR,
  LayerNode,
  ModelIR,
  OpArgsMap,
  OpName,
  OpNodeOf,
  PoolArgs,
  ResidualNode,
  Shape,
  StageIR,
} from "../../src/ir/model.js";

const SPAN = { start: 0, end: 0 };

function op<K extends OpName>(name: string, kind: K, args: OpArgsMap[K], inShape: Shape, outShape: Shape, params = 0, buffers = 0): OpNodeOf<K> {
  return { kind: "op", op: kind, args, name, inShape, outShape, params, buffers, macs: 0, span: SPAN } as OpNodeOf<K>;
}

export function conv(name: string, inShape: Shape, outShape: Shape, params: number, args: Partial<ConvArgs> & { filters: number }): OpNodeOf<"conv"> {
  const full: ConvArgs = { kernel: [3, 3], stride: [1, 1], padding: "same", dilation: [1, 1], groups: 1, bias: true, ...args };
  return op(name, "conv", full, inShape, outShape, params);
}

export function dense(name: string, inF: number, units: number, bias = true): OpNodeOf<"dense"> {
  return op(name, "dense", { units, bias }, [inF], [units], inF * units + (bias ? units : 0));
}

export function bn(name: string, shape: Shape): OpNodeOf<"bn"> {
  const c = shape[shape.length - 1]!;
  return op(name, "bn", { epsilon: 1e-5, momentum: 0.1 }, shape, shape, 2 * c, 2 * c);
}

export function act(name: string, kind: "relu" | "relu6" | "gelu" | "sigmoid" | "tanh", shape: Shape): OpNodeOf<typeof kind> {
  return op(name, kind, {}, shape, shape);
}

export function pool(name: string, kind: "maxpool" | "avgpool", inShape: Shape, outShape: Shape, args: Partial<PoolArgs> = {}): OpNodeOf<"maxpool"> {
  const full: PoolArgs = { size: [2, 2], stride: [2, 2], padding: "valid", ...args };
  return op(name, kind, full, inShape, outShape) as OpNodeOf<"maxpool">;
}

export function gap(name: string, inShape: Shape): OpNodeOf<"gap"> {
  return op(name, "gap", {}, inShape, [inShape[inShape.length - 1]!]);
}

export function flatten(name: string, inShape: Shape): OpNodeOf<"flatten"> {
  return op(name, "flatten", {}, inShape, [inShape.reduce((a, b) => a * b, 1)]);
}

export function dropout(name: string, shape: Shape, rate: number): OpNodeOf<"dropout"> {
  return op(name, "dropout", { rate }, shape, shape);
}

const sum = (nodes: readonly LayerNode[], key: "params" | "buffers") => nodes.reduce((a, n) => a + n[key], 0);

export function residual(name: string, body: LayerNode[], shortcut: LayerNode[], shortcutKind: ResidualNode["shortcutKind"]): ResidualNode {
  const all = [...body, ...shortcut];
  return {
    kind: "residual",
    name,
    body,
    shortcut,
    shortcutKind,
    inShape: body[0]!.inShape,
    outShape: body[body.length - 1]!.outShape,
    params: sum(all, "params"),
    buffers: sum(all, "buffers"),
    macs: 0,
    span: SPAN,
  };
}

export function concat(name: string, body: LayerNode[]): ConcatNode {
  const inShape = body[0]!.inShape;
  const bodyOut = body[body.length - 1]!.outShape;
  const outShape = [...inShape.slice(0, -1), inShape[inShape.length - 1]! + bodyOut[bodyOut.length - 1]!];
  return { kind: "concat", name, body, inShape, outShape, params: sum(body, "params"), buffers: sum(body, "buffers"), macs: 0, span: SPAN };
}

export function stage(name: string, index: number, nodes: LayerNode[], inShape?: Shape): StageIR {
  return {
    name,
    index,
    nodes,
    inShape: inShape ?? nodes[0]!.inShape,
    outShape: nodes.length > 0 ? nodes[nodes.length - 1]!.outShape : inShape!,
    params: sum(nodes, "params"),
    buffers: sum(nodes, "buffers"),
    macs: 0,
    cumulativeMacs: 0,
    span: SPAN,
  };
}

export function exit(name: string, index: number, after: StageIR, head: LayerNode[]): ExitIR {
  return {
    name,
    index,
    after: after.name,
    stageIndex: after.index,
    head,
    inShape: after.outShape,
    outShape: head[head.length - 1]!.outShape,
    params: sum(head, "params"),
    buffers: sum(head, "buffers"),
    macs: 0,
    cumulativeMacs: 0,
    cumulativeParams: 0,
    fraction: 0,
    span: SPAN,
  };
}

export function model(name: string, input: Shape, classes: number, stages: StageIR[], exits: ExitIR[]): ModelIR {
  const parts = [...stages, ...exits];
  return {
    name,
    input,
    classes,
    stages,
    exits,
    distill: null,
    train: {
      data: { kind: "synthetic", seed: 0, perClass: 10, valPerClass: 0, unlabeledPerClass: 0, testPerClass: 10, normalize: false },
      augment: [],
      optimizer: { kind: "sgd", lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0 },
      schedule: { kind: "constant" },
      epochs: 1,
      batch: 8,
      seed: 0,
      out: null,
    },
    params: parts.reduce((a, p) => a + p.params, 0),
    buffers: parts.reduce((a, p) => a + p.buffers, 0),
    macs: 0,
    activations: 0,
    source: "",
    sourceHash: "",
    file: "<fixture>",
  };
}

/**
 * Every op and block kind, on an 8x8x3 input with 4 classes and three exits.
 *
 * s1: conv 3x3x3->8 no bias (216) / bn 8 (16 + 16 buffers) / relu6 /
 *     depthwise conv 3x3, groups 8, 8->16 (mult 2) + bias (9*16 + 16 = 160) / gelu / maxpool 2 -> [4,4,16]
 * e1: gap -> [16] / dense 16->4 (68)
 * s2: residual, identity shortcut: grouped conv 3x3, groups 2, 16->16 no bias (9*8*16 = 1152) / bn (32) / relu
 *     residual, projection shortcut: conv 3x3 stride 2 16->24 no bias (3456) / bn (48)
 *       shortcut: conv 1x1 stride 2 16->24 no bias (384) / bn (48)      -> [2,2,24]
 *     tanh
 * e2: flatten -> [96] / dropout 0.5 / dense 96->4 (388)
 * s3: concat: conv 3x3 dilation 2, 24->8 + bias (9*24*8 + 8 = 1736) / sigmoid  -> [2,2,32]
 *     residual, explicit shortcut: conv 1x1 32->16 + bias (528) / relu
 *       shortcut: grouped conv 1x1, groups 2, 32->16 no bias (16*16 = 256)   -> [2,2,16]
 *     dilated depthwise conv 3x3, dilation 2, groups 16, 16->16 no bias (144)
 *     avgpool 2 -> [1,1,16]
 * e3: flatten -> [16] / dense 16->8 (136) / bn on a vector (16 + 16 buffers) / relu / dense 8->4 (36)
 */
export function allOpsModel(): ModelIR {
  const s1 = stage("s1", 0, [
    conv("s1/conv", [8, 8, 3], [8, 8, 8], 216, { filters: 8, bias: false }),
    bn("s1/bn", [8, 8, 8]),
    act("s1/relu6", "relu6", [8, 8, 8]),
    conv("s1/conv_1", [8, 8, 8], [8, 8, 16], 160, { filters: 16, groups: 8 }),
    act("s1/gelu", "gelu", [8, 8, 16]),
    pool("s1/maxpool", "maxpool", [8, 8, 16], [4, 4, 16]),
  ]);
  const e1 = exit("e1", 0, s1, [gap("e1/gap", [4, 4, 16]), dense("e1/dense", 16, 4)]);
  const s2 = stage("s2", 1, [
    residual(
      "s2/residual",
      [
        conv("s2/residual/conv", [4, 4, 16], [4, 4, 16], 1152, { filters: 16, groups: 2, bias: false }),
        bn("s2/residual/bn", [4, 4, 16]),
        act("s2/residual/relu", "relu", [4, 4, 16]),
      ],
      [],
      "identity",
    ),
    residual(
      "s2/residual_1",
      [
        conv("s2/residual_1/conv", [4, 4, 16], [2, 2, 24], 3456, { filters: 24, stride: [2, 2], bias: false }),
        bn("s2/residual_1/bn", [2, 2, 24]),
      ],
      [
        { ...conv("s2/residual_1/shortcut/conv", [4, 4, 16], [2, 2, 24], 384, { filters: 24, kernel: [1, 1], stride: [2, 2], bias: false }), synthetic: true },
        { ...bn("s2/residual_1/shortcut/bn", [2, 2, 24]), synthetic: true },
      ],
      "projection",
    ),
    act("s2/tanh", "tanh", [2, 2, 24]),
  ]);
  const e2 = exit("e2", 1, s2, [flatten("e2/flatten", [2, 2, 24]), dropout("e2/dropout", [96], 0.5), dense("e2/dense", 96, 4)]);
  const s3 = stage("s3", 2, [
    concat("s3/concat", [
      conv("s3/concat/conv", [2, 2, 24], [2, 2, 8], 1736, { filters: 8, dilation: [2, 2] }),
      act("s3/concat/sigmoid", "sigmoid", [2, 2, 8]),
    ]),
    residual(
      "s3/residual",
      [conv("s3/residual/conv", [2, 2, 32], [2, 2, 16], 528, { filters: 16, kernel: [1, 1] }), act("s3/residual/relu", "relu", [2, 2, 16])],
      [conv("s3/residual/shortcut/conv", [2, 2, 32], [2, 2, 16], 256, { filters: 16, kernel: [1, 1], groups: 2, bias: false })],
      "explicit",
    ),
    conv("s3/conv", [2, 2, 16], [2, 2, 16], 144, { filters: 16, groups: 16, dilation: [2, 2], bias: false }),
    pool("s3/avgpool", "avgpool", [2, 2, 16], [1, 1, 16]),
  ]);
  const e3 = exit("e3", 2, s3, [
    flatten("e3/flatten", [1, 1, 16]),
    dense("e3/dense", 16, 8),
    bn("e3/bn", [8]),
    act("e3/relu", "relu", [8]),
    dense("e3/dense_1", 8, 4),
  ]);
  return model("allops", [8, 8, 3], 4, [s1, s2, s3], [e1, e2, e3]);
}

/**
 * A vector-input model: [10] features, 3 classes.
 * s1: dense 10->6 (66) / relu; e1: dense 6->3 (21); s2: dense 6->6 (42) / tanh; e2: dense 6->3 (21).
 */
export function vectorModel(): ModelIR {
  const s1 = stage("s1", 0, [dense("s1/dense", 10, 6), act("s1/relu", "relu", [6])]);
  const e1 = exit("e1", 0, s1, [dense("e1/dense", 6, 3)]);
  const s2 = stage("s2", 1, [dense("s2/dense", 6, 6), act("s2/tanh", "tanh", [6])]);
  const e2 = exit("e2", 1, s2, [dense("e2/dense", 6, 3)]);
  return model("vec", [10], 3, [s1, s2], [e1, e2]);
}

/** One stage with a single op and a gap + dense exit; for small layer-level checks. */
export function singleOpModel(node: LayerNode, classes = 2): ModelIR {
  const s1 = stage("s1", 0, [node]);
  const c = s1.outShape[s1.outShape.length - 1]!;
  const head: LayerNode[] = s1.outShape.length === 3 ? [gap("e1/gap", s1.outShape), dense("e1/dense", c, classes)] : [dense("e1/dense", c, classes)];
  return model("single", s1.inShape, classes, [s1], [exit("e1", 0, s1, head)]);
}
