import { ok, type LayerDef } from "./types.js";

export const bn: LayerDef<"bn"> = {
  name: "bn",
  op: "bn",
  doc: "Batch normalisation over the last (channel) axis; running statistics are buffers.",
  params: [
    { name: "epsilon", doc: "added to the variance", default: "1e-5" },
    { name: "momentum", doc: "running-statistics update rate (PyTorch convention)", default: "0.1" },
  ],
  resolve: (reader) => ({
    epsilon: reader.number("epsilon", 1e-5, { gt: 0 }),
    momentum: reader.number("momentum", 0.1, { gt: 0, le: 1 }),
  }),
  infer: (_args, inShape) => ok(inShape),
  // Folds into the preceding conv at inference: no MACs of its own.
  cost: (_args, inShape) => {
    const channels = inShape[inShape.length - 1]!;
    return { params: 2 * channels, buffers: 2 * channels, macs: 0 };
  },
};
