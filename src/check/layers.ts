/**
 * Lowering layer items (stage bodies, exit heads) to IR nodes with inferred shapes and costs.
 * Shape inference continues past errors where it can; after a shape error the rest of the
 * block is still checked for argument errors but gets no shapes (no cascades of follow-on errors).
 */
import type { LayerNode, OpNode, Shape, Span } from "../ir/model.js";
import type { LayerItem } from "../syntax/ast.js";
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { LAYERS, BLOCKS } from "../ops/index.js";
import { formatShape, numel } from "../ops/types.js";
import { bindArgs, readInt } from "./args.js";
import { didYouMean } from "./suggest.js";
import { evaluate, evaluateArgs, type Env } from "./values.js";

/** What the LSP shows on hover, collected even when the file has errors elsewhere. */
export interface NodeInfo {
  readonly name: string;
  /** Layer or block as written (`conv`, `residual`). */
  readonly layer: string;
  readonly span: Span;
  readonly inShape: Shape;
  readonly outShape: Shape;
  readonly params: number;
  readonly macs: number;
}

export interface LowerContext {
  readonly bag: DiagnosticBag;
  readonly env: Env;
  /** Expanded layer count so far and its limit (resource guard against `repeat 1000000`). */
  layers: number;
  readonly maxLayers: number;
  /** Running sum of activation elements per example. */
  activations: number;
  readonly infos: NodeInfo[];
}

/** Names nodes within one scope: first `conv`, then `conv_1`, `conv_2`, ... */
export class Scope {
  private readonly counts = new Map<string, number>();

  constructor(readonly path: string) {}

  next(base: string): string {
    const n = this.counts.get(base) ?? 0;
    this.counts.set(base, n + 1);
    return `${this.path}/${n === 0 ? base : `${base}_${n}`}`;
  }
}

export interface Lowered {
  readonly nodes: LayerNode[];
  /** null when an error made the shape unknown. */
  readonly outShape: Shape | null;
}

export function lowerItems(items: readonly LayerItem[], inShape: Shape | null, scope: Scope, ctx: LowerContext): Lowered {
  const nodes: LayerNode[] = [];
  let shape = inShape;
  for (const item of items) {
    const lowered = lowerItem(item, shape, scope, ctx);
    nodes.push(...lowered.nodes);
    shape = lowered.outShape;
  }
  return { nodes, outShape: shape };
}

function lowerItem(item: LayerItem, inShape: Shape | null, scope: Scope, ctx: LowerContext): Lowered {
  switch (item.kind) {
    case "layer":
      return lowerLayer(item, inShape, scope, ctx);
    case "repeat":
      return lowerRepeat(item, inShape, scope, ctx);
    case "residual":
      return lowerResidual(item, inShape, scope, ctx);
    case "concat":
      return lowerConcat(item, inShape, scope, ctx);
  }
}

function lowerLayer(item: Extract<LayerItem, { kind: "layer" }>, inShape: Shape | null, scope: Scope, ctx: LowerContext): Lowered {
  const def = LAYERS.get(item.name.name);
  if (!def) {
    if (item.name.name !== "") {
      const hint = didYouMean(item.name.name, [...LAYERS.keys(), ...BLOCKS], false);
      ctx.bag.report("MEX2001", item.name.span, { name: item.name.name }, { hint: hint ?? `layers are: ${[...LAYERS.keys()].join(", ")}` });
    }
    return { nodes: [], outShape: null };
  }
  const args = item.args ? evaluateArgs(item.args, ctx.env, ctx.bag) : null;
  if (def.params.length === 0 && args && args.length > 0) {
    ctx.bag.report("MEX2022", args[0]!.span, { what: def.name });
  }
  const reader = bindArgs(def.params.length === 0 ? null : args, def.params, def.name, item.span, ctx.env, ctx.bag);
  const opArgs = def.resolve(reader, inShape);
  if (def.name === "dropout" && (opArgs as { rate: number }).rate === 0 && reader.has("rate")) {
    ctx.bag.report("MEX3901", item.span);
  }
  if (inShape === null) return { nodes: [], outShape: null };
  const result = def.infer(opArgs as never, inShape);
  if (!result.ok) {
    ctx.bag.report(result.code, item.span, result.args, result.hint ? { hint: result.hint } : {});
    return { nodes: [], outShape: null };
  }
  const cost = def.cost(opArgs as never, inShape, result.shape);
  const node = {
    kind: "op",
    op: def.op,
    name: scope.next(def.name),
    args: opArgs,
    inShape,
    outShape: result.shape,
    ...cost,
    span: item.span,
  } as OpNode;
  record(node, def.name, ctx);
  return { nodes: [node], outShape: result.shape };
}

function record(node: LayerNode, layer: string, ctx: LowerContext): void {
  ctx.layers += 1;
  ctx.activations += numel(node.outShape);
  ctx.infos.push({ name: node.name, layer, span: node.span, inShape: node.inShape, outShape: node.outShape, params: node.params, macs: node.macs });
}

/** Expanded layer count of items, computed without expanding (so `repeat 1e9` costs nothing). */
export function expandedSize(items: readonly LayerItem[], env: Env, bag: DiagnosticBag): number {
  let total = 0;
  for (const item of items) {
    if (item.kind === "layer") total += 1;
    else if (item.kind === "repeat") {
      // Estimates only: diagnostics come when the item is really lowered.
      const count = evaluate(item.count, env, new DiagnosticBag(bag.file));
      const n = count.kind === "num" && count.value > 0 ? count.value : 0;
      total += n * expandedSize(item.body, env, bag);
    } else if (item.kind === "residual") total += 1 + expandedSize(item.body, env, bag) + expandedSize(item.shortcut ?? [], env, bag) + 2;
    else total += 1 + expandedSize(item.body, env, bag);
  }
  return total;
}

function lowerRepeat(item: Extract<LayerItem, { kind: "repeat" }>, inShape: Shape | null, scope: Scope, ctx: LowerContext): Lowered {
  const countValue = evaluate(item.count, ctx.env, ctx.bag);
  const count = readInt(countValue, "repeat count", { ge: 0 }, ctx.env, ctx.bag);
  if (count === undefined) {
    lowerItems(item.body, null, new Scope(`${scope.path}/repeat`), ctx);
    return { nodes: [], outShape: null };
  }
  const estimate = count * expandedSize(item.body, ctx.env, ctx.bag);
  if (ctx.layers + estimate > ctx.maxLayers) {
    ctx.bag.report("MEX4012", item.count.span, { limit: ctx.maxLayers }, { hint: `this repeat alone expands to ${estimate.toLocaleString("en-US")} layers; lower the count` });
    lowerItems(item.body, null, new Scope(`${scope.path}/repeat`), ctx);
    return { nodes: [], outShape: null };
  }
  const base = scope.next("repeat");
  const nodes: LayerNode[] = [];
  let shape = inShape;
  for (let i = 0; i < count; i++) {
    const lowered = lowerItems(item.body, shape, new Scope(`${base}/r${i}`), ctx);
    nodes.push(...lowered.nodes);
    shape = lowered.outShape;
    // One shape error repeats identically in every iteration: report it once.
    if (shape === null) break;
  }
  return { nodes, outShape: shape };
}

function lowerResidual(item: Extract<LayerItem, { kind: "residual" }>, inShape: Shape | null, scope: Scope, ctx: LowerContext): Lowered {
  const name = scope.next("residual");
  const body = lowerItems(item.body, inShape, new Scope(name), ctx);
  const shortcutScope = new Scope(`${name}/shortcut`);
  const explicit = item.shortcut ? lowerItems(item.shortcut, inShape, shortcutScope, ctx) : null;
  if (inShape === null || body.outShape === null || (explicit && explicit.outShape === null)) return { nodes: [], outShape: null };
  const outShape = body.outShape;
  let shortcut: LayerNode[] = [];
  let shortcutKind: "identity" | "explicit" | "projection" = "identity";
  if (explicit) {
    if (!sameShape(explicit.outShape!, outShape)) {
      ctx.bag.report("MEX4004", item.span, { shortcut: formatShape(explicit.outShape!), body: formatShape(outShape) });
      return { nodes: [], outShape: null };
    }
    shortcut = explicit.nodes;
    shortcutKind = "explicit";
  } else if (!sameShape(inShape, outShape)) {
    const projection = project(inShape, outShape, shortcutScope, item.span);
    if (!projection) {
      ctx.bag.report("MEX4003", item.span, { body: formatShape(outShape), shortcut: formatShape(inShape) });
      return { nodes: [], outShape: null };
    }
    for (const node of projection) record(node, node.op, ctx);
    shortcut = projection;
    shortcutKind = "projection";
  }
  const children = [...body.nodes, ...shortcut];
  const node: LayerNode = {
    kind: "residual",
    name,
    body: body.nodes,
    shortcut,
    shortcutKind,
    inShape,
    outShape,
    ...sumCosts(children),
    span: item.span,
  };
  ctx.activations += numel(outShape);
  ctx.infos.push({ name, layer: "residual", span: item.span, inShape, outShape, params: node.params, macs: node.macs });
  return { nodes: [node], outShape };
}

/**
 * The automatic shortcut when body and input differ: a 1x1 conv (stride s) + bn for images,
 * a dense layer for vectors (ResNet's "option B"). None when no stride reproduces the spatial size.
 */
function project(inShape: Shape, outShape: Shape, scope: Scope, span: Span): OpNode[] | null {
  if (inShape.length === 1 && outShape.length === 1) {
    const units = outShape[0]!;
    return [
      {
        kind: "op", op: "dense", name: scope.next("dense"), args: { units, bias: false },
        inShape, outShape, params: inShape[0]! * units, buffers: 0, macs: inShape[0]! * units, span, synthetic: true,
      },
    ];
  }
  if (inShape.length !== 3 || outShape.length !== 3) return null;
  const strideH = findStride(inShape[0]!, outShape[0]!);
  const strideW = findStride(inShape[1]!, outShape[1]!);
  if (strideH === null || strideW === null) return null;
  const [oh, ow, oc] = outShape as [number, number, number];
  const inC = inShape[2]!;
  return [
    {
      kind: "op", op: "conv", name: scope.next("conv"),
      args: { filters: oc, kernel: [1, 1], stride: [strideH, strideW], padding: "same", dilation: [1, 1], groups: 1, bias: false },
      inShape, outShape, params: inC * oc, buffers: 0, macs: oh * ow * oc * inC, span, synthetic: true,
    },
    {
      kind: "op", op: "bn", name: scope.next("bn"), args: { epsilon: 1e-5, momentum: 0.1 },
      inShape: outShape, outShape, params: 2 * oc, buffers: 2 * oc, macs: 0, span, synthetic: true,
    },
  ];
}

/** The stride s with ceil(input / s) == output (same padding), preferring the smallest. */
function findStride(input: number, output: number): number | null {
  if (output > input || output < 1) return null;
  const s = Math.ceil(input / output);
  for (const candidate of [s - 1, s, s + 1]) {
    if (candidate >= 1 && Math.ceil(input / candidate) === output) return candidate;
  }
  return null;
}

function lowerConcat(item: Extract<LayerItem, { kind: "concat" }>, inShape: Shape | null, scope: Scope, ctx: LowerContext): Lowered {
  const name = scope.next("concat");
  const body = lowerItems(item.body, inShape, new Scope(name), ctx);
  if (inShape === null || body.outShape === null) return { nodes: [], outShape: null };
  const b = body.outShape;
  const spatialIn = inShape.slice(0, -1);
  const spatialBody = b.slice(0, -1);
  if (inShape.length !== b.length || !sameShape(spatialIn, spatialBody)) {
    ctx.bag.report("MEX4006", item.span, { input: formatShape(inShape), body: formatShape(b) });
    return { nodes: [], outShape: null };
  }
  const outShape = [...spatialIn, inShape[inShape.length - 1]! + b[b.length - 1]!];
  const node: LayerNode = { kind: "concat", name, body: body.nodes, inShape, outShape, ...sumCosts(body.nodes), span: item.span };
  ctx.activations += numel(outShape);
  ctx.infos.push({ name, layer: "concat", span: item.span, inShape, outShape, params: node.params, macs: node.macs });
  return { nodes: [node], outShape };
}

export function sumCosts(nodes: readonly LayerNode[]): { params: number; buffers: number; macs: number } {
  let params = 0;
  let buffers = 0;
  let macs = 0;
  for (const node of nodes) {
    params += node.params;
    buffers += node.buffers;
    macs += node.macs;
  }
  return { params, buffers, macs };
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
