import { NO_COST, ok, rankError, type LayerDef } from "./types.js";

export const gap: LayerDef<"gap"> = {
  name: "gap",
  op: "gap",
  doc: "Global average pooling: [h, w, c] -> [c].",
  params: [],
  resolve: () => ({}) as never,
  infer: (_args, inShape) =>
    inShape.length === 3 ? ok([inShape[2]!]) : rankError("gap", "an image ([height, width, channels])", inShape, "remove `gap`: the input is already a vector"),
  cost: () => NO_COST,
};

export const flatten: LayerDef<"flatten"> = {
  name: "flatten",
  op: "flatten",
  doc: "Flatten to a vector: [h, w, c] -> [h*w*c].",
  params: [],
  resolve: () => ({}) as never,
  infer: (_args, inShape) => ok([inShape.reduce((a, b) => a * b, 1)]),
  cost: () => NO_COST,
};

export const dropout: LayerDef<"dropout"> = {
  name: "dropout",
  op: "dropout",
  doc: "Zeroes inputs with probability rate during training (identity at inference); masks follow (seed, layer, step), so runs repeat.",
  params: [{ name: "rate", doc: "drop probability in [0, 1)", positional: true, default: "0.5" }],
  resolve: (reader) => ({ rate: reader.number("rate", 0.5, { ge: 0, lt: 1 }) }),
  infer: (_args, inShape) => ok(inShape),
  cost: () => NO_COST,
};

