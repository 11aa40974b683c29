/** The layer registry: every layer name the language accepts. */
import type { LayerDef } from "./types.js";
import { conv, dwconv } from "./conv.js";
import { dense } from "./dense.js";
import { bn } from "./bn.js";
import { gelu, relu, relu6, sigmoid, tanh } from "./activations.js";
import { avgpool, maxpool } from "./pool.js";
import { dropout, flatten, gap } from "./reshape.js";

export const LAYERS: ReadonlyMap<string, LayerDef> = new Map(
  ([conv, dwconv, dense, bn, relu, relu6, gelu, sigmoid, tanh, maxpool, avgpool, gap, flatten, dropout] as LayerDef[]).map((def) => [def.name, def]),
);

/** Block keywords, listed with layers for completion and did-you-mean. */
export const BLOCKS = ["repeat", "residual", "concat"] as const;

export type { LayerDef, Cost, ShapeResult } from "./types.js";
export { convOutputLength, formatShape, numel } from "./types.js";
