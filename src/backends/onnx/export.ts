/**
 * Checked IR + weights -> a serialised ONNX model, in one of two forms:
 *
 * - "multi-exit": input `input` [N, ...IR input] (NHWC for images, the layout tfjs uses, so the
 *   same arrays feed both), one output `logits_<exit>` [N, classes] per exit, dynamic batch `N`.
 * - "early-exit": batch size 1. Stage by stage, an exit's head runs, its softmax's maximum is
 *   compared with the exit's threshold and a nested `If` either answers (then-branch) or computes
 *   the next stages and exit (else-branch). Outputs `probs` [1, classes] (softmax of the answering
 *   exit) and `exit_index` [1] (int64, 0-based exit index). The last exit always answers. An exit
 *   whose threshold is +Infinity is closed: its head is not even computed.
 *
 * Output is deterministic: no timestamps, names derived from IR names, fixed attribute order.
 */
import { exitStopCosts, type ExitIR, type ModelIR } from "../../ir/model.js";
import type { ModelWeights } from "../tfjs/weights.js";
import { ExportContext, layoutOf, lowerNodes, OnnxExportError, Scope, type Value } from "./lower.js";
import { DataType, encodeModel, floatTensor, int64Tensor, valueInfo, type Dim, type GraphProto, type ModelProto } from "./proto.js";

export const DEFAULT_OPSET = 13;
export const MIN_OPSET = 13;
/** Newest opset the exporter knows the IR version of (ONNX 1.16). */
export const MAX_OPSET = 21;

export const INPUT_NAME = "input";
export const PROBS_NAME = "probs";
export const EXIT_INDEX_NAME = "exit_index";

/** Graph output name of an exit's logits in the multi-exit form. */
export function logitsName(exitName: string): string {
  return `logits_${exitName}`;
}

export interface OnnxExportOptions {
  /** ai.onnx opset, MIN_OPSET..MAX_OPSET. Default DEFAULT_OPSET. */
  readonly opset?: number;
  /** Present: the early-exit form with one threshold per exit (the last is ignored: it always answers). */
  readonly earlyExit?: { readonly thresholds: readonly number[] } | null;
  /** producer_version (mex's package version). */
  readonly producerVersion: string;
  /** Extra metadata_props, added after the exporter's own (must not repeat one of its keys). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Serialise `ir` with `weights` (from `extractWeights`) as an ONNX model. Throws OnnxExportError. */
export function exportOnnx(ir: ModelIR, weights: ModelWeights, options: OnnxExportOptions): Uint8Array {
  return encodeModel(buildOnnxModel(ir, weights, options));
}

/** The ModelProto object behind `exportOnnx` (for inspection in tests). */
export function buildOnnxModel(ir: ModelIR, weights: ModelWeights, options: OnnxExportOptions): ModelProto {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new OnnxExportError(`opset ${opset} is not supported: use an integer from ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  if (ir.exits.length === 0) throw new OnnxExportError(`model ${ir.name} has no exits`);
  const ctx = new ExportContext(weights, opset);
  const early = options.earlyExit ?? null;
  if (early) checkThresholds(ir, early.thresholds);
  const graph = early ? earlyExitGraph(ir, early.thresholds, ctx) : multiExitGraph(ir, ctx);
  const exported = [...ctx.initializerNames];
  const unused = [...weights.keys()].filter((name) => !exported.some((t) => t.startsWith(`${name}/`)));
  // Closed exits of an early-exit graph legitimately leave their head's weights out.
  const closedHeads = early ? closedHeadNames(ir, early.thresholds) : new Set<string>();
  const stray = unused.filter((name) => !closedHeads.has(name));
  if (stray.length > 0) throw new OnnxExportError(`weights given for ${stray.join(", ")}, which the model does not have (weights of a different spec?)`);
  return {
    irVersion: irVersionFor(opset),
    opsetImport: [{ domain: "", version: opset }],
    producerName: "mex",
    producerVersion: options.producerVersion,
    domain: "",
    modelVersion: 1,
    docString: docString(ir, early?.thresholds ?? null),
    graph,
    metadataProps: metadata(ir, early?.thresholds ?? null, options.metadata ?? {}),
  };
}

/** IR version of the ONNX release that introduced each opset (13: ONNX 1.8, ..., 21: ONNX 1.16). */
export function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function checkThresholds(ir: ModelIR, thresholds: readonly number[]): void {
  if (thresholds.length !== ir.exits.length) {
    throw new OnnxExportError(`early exit needs ${ir.exits.length} thresholds (one per exit), got ${thresholds.length}`);
  }
  thresholds.forEach((t, m) => {
    if (Number.isNaN(t) || t < 0) throw new OnnxExportError(`threshold of exit ${ir.exits[m]!.name} must be >= 0 (or Infinity to close it), got ${t}`);
  });
}

/** The model's input value and, for images, its NCHW transpose. */
function graphInput(ir: ModelIR, scope: Scope): Value {
  if (layoutOf(ir.input) === "nchw") {
    const name = scope.op("Transpose", `${INPUT_NAME}/nchw`, [INPUT_NAME], { perm: { ints: [0, 3, 1, 2] } });
    return { name, shape: ir.input, layout: "nchw" };
  }
  return { name: INPUT_NAME, shape: ir.input, layout: "native" };
}

function multiExitGraph(ir: ModelIR, ctx: ExportContext): GraphProto {
  const scope = new Scope(ctx);
  let x = graphInput(ir, scope);
  const lastStage = Math.max(...ir.exits.map((e) => e.stageIndex));
  const stageOutputs: Value[] = [];
  for (const stage of ir.stages.slice(0, lastStage + 1)) {
    x = lowerNodes(stage.nodes, x, scope);
    stageOutputs.push(x);
  }
  const outputs = ir.exits.map((exit) => {
    const logits = lowerNodes(exit.head, stageFeatures(stageOutputs, exit), scope);
    scope.emit("Identity", logitsName(exit.name), [logits.name], [logitsName(exit.name)]);
    return valueInfo(logitsName(exit.name), DataType.FLOAT, ["N", ir.classes], `logits of exit ${exit.name} (no softmax)`);
  });
  return {
    name: ir.name,
    node: scope.nodes,
    initializer: scope.initializers,
    input: [valueInfo(INPUT_NAME, DataType.FLOAT, ["N", ...ir.input], inputDoc(ir))],
    output: outputs,
  };
}

function stageFeatures(stageOutputs: readonly Value[], exit: ExitIR): Value {
  const features = stageOutputs[exit.stageIndex];
  if (!features) throw new OnnxExportError(`exit ${exit.name} is attached to stage index ${exit.stageIndex}, which does not exist`, exit.name);
  return features;
}

/**
 * The early-exit graph: the main scope computes up to the first open exit; each `If` else-branch
 * continues from the previous stage output (an outer-scope value, which ONNX subgraphs may read)
 * and holds the weights of the stages and heads it computes.
 */
function earlyExitGraph(ir: ModelIR, thresholds: readonly number[], ctx: ExportContext): GraphProto {
  const scope = new Scope(ctx);
  const x = graphInput(ir, scope);
  const outputs = { probs: PROBS_NAME, index: EXIT_INDEX_NAME };
  continueFrom(ir, thresholds, 0, 0, x, scope, outputs);
  return {
    name: ir.name,
    node: scope.nodes,
    initializer: scope.initializers,
    input: [valueInfo(INPUT_NAME, DataType.FLOAT, [1, ...ir.input], inputDoc(ir))],
    output: outputValues(ir, outputs),
  };
}

interface BranchOutputs {
  readonly probs: string;
  readonly index: string;
}

function outputValues(ir: ModelIR, outputs: BranchOutputs): ReturnType<typeof valueInfo>[] {
  return [
    valueInfo(outputs.probs, DataType.FLOAT, [1, ir.classes], "softmax of the exit that answered"),
    valueInfo(outputs.index, DataType.INT64, [1], "0-based index of the exit that answered"),
  ];
}

/**
 * Emit into `scope`: stages from `nextStage` on and exits from `exitIndex` on, writing the answer
 * to `outputs`. `x` is the output of stage `nextStage - 1` (or the prepared input).
 */
function continueFrom(ir: ModelIR, thresholds: readonly number[], exitIndex: number, nextStage: number, x: Value, scope: Scope, outputs: BranchOutputs): void {
  const exit = ir.exits[exitIndex]!;
  const last = exitIndex === ir.exits.length - 1;
  if (exit.stageIndex < nextStage - 1 || exit.stageIndex >= ir.stages.length) {
    throw new OnnxExportError(`exit ${exit.name} is attached to stage index ${exit.stageIndex}: exits must follow stage order`, exit.name);
  }
  let features = x;
  let stage = nextStage;
  for (; stage <= exit.stageIndex; stage++) features = lowerNodes(ir.stages[stage]!.nodes, features, scope);
  const threshold = thresholds[exitIndex]!;
  if (!last && threshold === Number.POSITIVE_INFINITY) {
    continueFrom(ir, thresholds, exitIndex + 1, stage, features, scope, outputs);
    return;
  }
  const logits = lowerNodes(exit.head, features, scope);
  const probs = scope.op("Softmax", `${exit.name}/probs`, [logits.name], { axis: { int: 1 } });
  if (last) {
    answer(scope, exit, probs, outputs);
    return;
  }
  const confidence = scope.op("ReduceMax", `${exit.name}/confidence`, [probs], { keepdims: { int: 0 } });
  const thresholdName = scope.initializer(floatTensor(`${exit.name}/threshold`, [], Float32Array.of(threshold)));
  const answers = scope.op("GreaterOrEqual", `${exit.name}/answers`, [confidence, thresholdName]);

  const thenScope = new Scope(scope.ctx, `${exit.name}/answer/`);
  const thenOut = { probs: `${exit.name}/then/probs`, index: `${exit.name}/then/exit_index` };
  answer(thenScope, exit, probs, thenOut);
  const elseScope = new Scope(scope.ctx, `${exit.name}/continue/`);
  const elseOut = { probs: `${exit.name}/else/probs`, index: `${exit.name}/else/exit_index` };
  continueFrom(ir, thresholds, exitIndex + 1, stage, features, elseScope, elseOut);

  scope.emit("If", `${exit.name}/if`, [answers], [outputs.probs, outputs.index], {
    else_branch: { graph: branchGraph(`${exit.name}/continue`, elseScope, ir, elseOut) },
    then_branch: { graph: branchGraph(`${exit.name}/answer`, thenScope, ir, thenOut) },
  });
}

/** Emit the answer of `exit`: its probabilities and its index. */
function answer(scope: Scope, exit: ExitIR, probs: string, outputs: BranchOutputs): void {
  scope.emit("Identity", `${outputs.probs}/identity`, [probs], [outputs.probs]);
  scope.emit("Constant", `${outputs.index}/constant`, [], [outputs.index], { value: { tensor: int64Tensor(`${exit.name}/index`, [1], [exit.index]) } });
}

function branchGraph(name: string, scope: Scope, ir: ModelIR, outputs: BranchOutputs): GraphProto {
  return { name, node: scope.nodes, initializer: scope.initializers, output: outputValues(ir, outputs) };
}

/** Heads of closed (threshold +Infinity, not last) exits: their weights are not exported. */
function closedHeadNames(ir: ModelIR, thresholds: readonly number[]): Set<string> {
  const names = new Set<string>();
  ir.exits.forEach((exit, m) => {
    if (m === ir.exits.length - 1 || thresholds[m] !== Number.POSITIVE_INFINITY) return;
    const walk = (nodes: ExitIR["head"]) => {
      for (const n of nodes) {
        names.add(n.name);
        if (n.kind === "residual") {
          walk(n.body);
          walk(n.shortcut);
        } else if (n.kind === "concat") walk(n.body);
      }
    };
    walk(exit.head);
  });
  return names;
}

/**
 * MACs per example of an early-exit run that stops at exit m: backbone up to its stage, plus the
 * heads of every open exit up to and including m (they all ran).
 */
export function earlyExitCosts(ir: ModelIR, thresholds: readonly number[]): number[] {
  return exitStopCosts(ir, (m) => thresholds[m] !== Number.POSITIVE_INFINITY);
}

function inputDoc(ir: ModelIR): string {
  return ir.input.length === 3 ? `[batch, height, width, channels] = [batch, ${ir.input.join(", ")}], channels last as in tfjs` : `[batch, ${ir.input.join(", ")}]`;
}

function docString(ir: ModelIR, thresholds: readonly number[] | null): string {
  const exits = ir.exits.map((e) => e.name).join(", ");
  const common = `Multi-exit network '${ir.name}' exported by mex from a spec with SHA-256 ${ir.sourceHash}. Input 'input': ${inputDoc(ir)}.`;
  if (!thresholds) return `${common} Outputs: logits_<exit> [batch, ${ir.classes}] for every exit (${exits}), logits without softmax.`;
  const rule = ir.exits
    .slice(0, -1)
    .map((e, m) => (thresholds[m] === Number.POSITIVE_INFINITY ? `${e.name} closed` : `${e.name} answers when max softmax >= ${thresholds[m]}`))
    .join("; ");
  return (
    `${common} Early-exit form, BATCH SIZE 1 ONLY: exits are tried in order (${exits}) and computation stops at the first ` +
    `that is confident enough (${rule}; the last exit always answers). Outputs: 'probs' [1, ${ir.classes}] (softmax of the answering exit) ` +
    `and 'exit_index' [1] (int64, 0-based).`
  );
}

function metadata(ir: ModelIR, thresholds: readonly number[] | null, extra: Readonly<Record<string, string>>): { key: string; value: string }[] {
  const props: [string, string][] = [
    ["mex.model", ir.name],
    ["mex.spec_hash", ir.sourceHash],
    ["mex.form", thresholds ? "early-exit" : "multi-exit"],
    ["mex.input_layout", ir.input.length === 3 ? "NHWC" : "features"],
    ["mex.classes", String(ir.classes)],
    ["mex.exits", JSON.stringify(ir.exits.map((e) => e.name))],
    ["mex.exit_macs", JSON.stringify(Object.fromEntries(ir.exits.map((e) => [e.name, e.cumulativeMacs])))],
  ];
  if (thresholds) {
    props.push(["mex.thresholds", JSON.stringify(Object.fromEntries(ir.exits.map((e, m) => [e.name, Number.isFinite(thresholds[m]!) ? thresholds[m]! : null])))]);
    const costs = earlyExitCosts(ir, thresholds);
    props.push(["mex.exit_cost_if_stop_at", JSON.stringify(Object.fromEntries(ir.exits.map((e, m) => [e.name, costs[m]!])))]);
  }
  for (const [key, value] of Object.entries(extra)) {
    if (props.some(([k]) => k === key)) throw new OnnxExportError(`metadata key ${key} is set by the exporter itself`);
    props.push([key, value]);
  }
  return props.map(([key, value]) => ({ key, value }));
}

export { OnnxExportError };
export type { Dim };
