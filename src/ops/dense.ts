import { ok, rankError, type LayerDef } from "./types.js";

export const dense: LayerDef<"dense"> = {
  name: "dense",
  op: "dense",
  doc: "Fully connected layer on a vector.",
  params: [
    { name: "units", doc: "output features", positional: true, required: true },
    { name: "bias", doc: "add a learned bias", default: "true" },
  ],
  resolve: (reader) => ({ units: reader.int("units", 1, { ge: 1 }), bias: reader.bool("bias", true) }),
  infer(args, inShape) {
    if (inShape.length !== 1) return rankError("dense", "a vector ([features])", inShape, "add `gap` or `flatten` before dense");
    return ok([args.units]);
  },
  cost: (args, inShape) => ({
    params: inShape[0]! * args.units + (args.bias ? args.units : 0),
    buffers: 0,
    macs: inShape[0]! * args.units,
  }),
};
