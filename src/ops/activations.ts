import type { OpName } from "../ir/model.js";
import { NO_COST, ok, type LayerDef } from "./types.js";

type ActivationOp = Extract<OpName, "relu" | "relu6" | "gelu" | "sigmoid" | "tanh">;

function activation<K extends ActivationOp>(name: K, doc: string): LayerDef<K> {
  return {
    name,
    op: name,
    doc,
    params: [],
    resolve: () => ({}) as never,
    infer: (_args, inShape) => ok(inShape),
    cost: () => NO_COST,
  };
}

export const relu = activation("relu", "max(x, 0)");
export const relu6 = activation("relu6", "min(max(x, 0), 6)");
export const gelu = activation("gelu", "x * Phi(x), the exact (erf) form");
export const sigmoid = activation("sigmoid", "1 / (1 + exp(-x))");
export const tanh = activation("tanh", "hyperbolic tangent");
