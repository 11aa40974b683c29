import type { PoolArgs } from "../ir/model.js";
import { convOutputLength, formatShape, NO_COST, ok, rankError, type LayerDef, type ShapeResult } from "./types.js";

function pool<K extends "maxpool" | "avgpool">(name: K, doc: string): LayerDef<K> {
  return {
    name,
    op: name,
    doc,
    params: [
      { name: "size", doc: "window, an integer or [h, w]", positional: true, default: "2" },
      { name: "stride", doc: "step, an integer or [h, w]", default: "size" },
      { name: "padding", doc: "valid or same", default: "valid" },
    ],
    resolve(reader) {
      const size = reader.pair("size", 2);
      const stride = reader.has("stride") ? reader.pair("stride", 1) : size;
      return { size, stride, padding: reader.keyword("padding", "valid", ["same", "valid"] as const) };
    },
    infer: (args, inShape) => inferPool(name, args, inShape),
    cost: () => NO_COST,
  };
}

function inferPool(name: string, args: PoolArgs, inShape: readonly number[]): ShapeResult {
  if (inShape.length !== 3) return rankError(name, "an image ([height, width, channels])", inShape, "pool before `gap`/`flatten`");
  const oh = convOutputLength(inShape[0]!, args.size[0], args.padding, args.stride[0]);
  const ow = convOutputLength(inShape[1]!, args.size[1], args.padding, args.stride[1]);
  if (oh < 1 || ow < 1) return { ok: false, code: "MEX4002", args: { op: name, window: `${args.size[0]}x${args.size[1]}`, shape: formatShape(inShape) } };
  return ok([oh, ow, inShape[2]!]);
}

export const maxpool = pool("maxpool", "Max pooling.");
export const avgpool = pool("avgpool", "Average pooling (padding=same averages over the valid taps only).");
