import type { OpArgsMap, OpName, Shape } from "../ir/model.js";
import type { ArgReader, ParamSpec } from "../check/args.js";
import type { Code } from "../diagnostics/codes.js";

/** Output shape, or why there is none (reported by the checker at the layer's position). */
export type ShapeResult =
  | { readonly ok: true; readonly shape: Shape }
  | { readonly ok: false; readonly code: Code; readonly args: Record<string, string | number>; readonly hint?: string };

export interface Cost {
  readonly params: number;
  readonly buffers: number;
  readonly macs: number;
}

/**
 * One layer of the language: its parameters (data, for docs/LSP/checker), how arguments resolve
 * to IR args, its shape rule and its cost. A new layer is one new file plus one registry line.
 */
export interface LayerDef<K extends OpName = OpName> {
  /** Name as written in specs (`conv`, `dwconv`). */
  readonly name: string;
  /** IR op it lowers to (`dwconv` lowers to `conv` with groups = channels). */
  readonly op: K;
  readonly doc: string;
  readonly params: readonly ParamSpec[];
  /** Resolve arguments with every default filled; `inShape` is null when unknown (after an earlier error). */
  resolve(reader: ArgReader, inShape: Shape | null): OpArgsMap[K];
  infer(args: OpArgsMap[K], inShape: Shape): ShapeResult;
  cost(args: OpArgsMap[K], inShape: Shape, outShape: Shape): Cost;
}

export const NO_COST: Cost = { params: 0, buffers: 0, macs: 0 };

export function ok(shape: Shape): ShapeResult {
  return { ok: true, shape };
}

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Output length of a windowed op along one axis, TensorFlow/Keras semantics (what tfjs computes):
 * same -> ceil(len / stride); valid -> ceil((len - effectiveKernel + 1) / stride).
 * Returns 0 or less when the window does not fit.
 */
export function convOutputLength(length: number, kernel: number, padding: "same" | "valid", stride: number, dilation = 1): number {
  const effective = (kernel - 1) * dilation + 1;
  if (padding === "same") return Math.ceil(length / stride);
  return Math.ceil((length - effective + 1) / stride);
}

/** Rank errors share one message shape: "dense needs a vector ([features]) input, got [7, 7, 64]". */
export function rankError(op: string, expected: string, shape: Shape, fix: string): ShapeResult {
  return { ok: false, code: "MEX4001", args: { op, expected, shape: formatShape(shape), fix } };
}
