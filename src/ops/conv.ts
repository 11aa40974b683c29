import type { ConvArgs, Shape } from "../ir/model.js";
import type { ArgReader, ParamSpec } from "../check/args.js";
import { convOutputLength, formatShape, ok, rankError, type LayerDef, type ShapeResult } from "./types.js";

const common: readonly ParamSpec[] = [
  { name: "kernel", doc: "window size, an integer or [h, w]", default: "3" },
  { name: "stride", doc: "step, an integer or [h, w]", default: "1" },
  { name: "padding", doc: "same (output = ceil(input / stride)) or valid (no padding)", default: "same" },
  { name: "dilation", doc: "spacing between window taps, an integer or [h, w]", default: "1" },
];

function readWindow(reader: ArgReader): Pick<ConvArgs, "kernel" | "stride" | "padding" | "dilation"> {
  const stride = reader.pair("stride", 1);
  const dilation = reader.pair("dilation", 1);
  // TensorFlow (and so tfjs) has no kernel for a strided dilated convolution.
  if (Math.max(...stride) > 1 && Math.max(...dilation) > 1) {
    reader.reportRange("dilation", "1 when stride > 1", `${dilation.join("x")} with stride ${stride.join("x")}`);
    dilation[0] = dilation[1] = 1;
  }
  return {
    kernel: reader.pair("kernel", 3),
    stride,
    padding: reader.keyword("padding", "same", ["same", "valid"] as const),
    dilation,
  };
}

function inferConv(name: string, args: ConvArgs, inShape: Shape): ShapeResult {
  if (inShape.length !== 3) return rankError(name, "an image ([height, width, channels])", inShape, "convolutions apply before `gap`/`flatten`");
  const [h, w, c] = inShape as [number, number, number];
  if (c % args.groups !== 0 || args.filters % args.groups !== 0) {
    return { ok: false, code: "MEX4005", args: { groups: args.groups, inC: c, filters: args.filters } };
  }
  const oh = convOutputLength(h, args.kernel[0], args.padding, args.stride[0], args.dilation[0]);
  const ow = convOutputLength(w, args.kernel[1], args.padding, args.stride[1], args.dilation[1]);
  if (oh < 1 || ow < 1) {
    const window = `${(args.kernel[0] - 1) * args.dilation[0] + 1}x${(args.kernel[1] - 1) * args.dilation[1] + 1}`;
    return { ok: false, code: "MEX4002", args: { op: name, window, shape: formatShape(inShape) } };
  }
  return ok([oh, ow, args.filters]);
}

function convCost(args: ConvArgs, inShape: Shape, outShape: Shape) {
  const inC = inShape[2]!;
  const taps = args.kernel[0] * args.kernel[1] * (inC / args.groups);
  return {
    params: taps * args.filters + (args.bias ? args.filters : 0),
    buffers: 0,
    macs: outShape[0]! * outShape[1]! * args.filters * taps,
  };
}

export const conv: LayerDef<"conv"> = {
  name: "conv",
  op: "conv",
  doc: "2-D convolution (channels last). groups=depthwise (or = input channels) makes it depthwise.",
  params: [
    { name: "filters", doc: "output channels", positional: true, required: true },
    ...common,
    { name: "groups", doc: "channel groups: an integer dividing input channels and filters, or depthwise", default: "1" },
    { name: "bias", doc: "add a learned bias", default: "true" },
  ],
  resolve(reader, inShape) {
    const groupsValue = reader.value("groups");
    const depthwise = groupsValue?.kind === "sym" && groupsValue.name === "depthwise";
    const channels = inShape && inShape.length === 3 ? inShape[2]! : 1;
    return {
      filters: reader.int("filters", 1, { ge: 1 }),
      ...readWindow(reader),
      groups: depthwise ? channels : reader.int("groups", 1, { ge: 1 }),
      bias: reader.bool("bias", true),
    };
  },
  infer: (args, inShape) => inferConv("conv", args, inShape),
  cost: convCost,
};

export const dwconv: LayerDef<"conv"> = {
  name: "dwconv",
  op: "conv",
  doc: "Depthwise convolution: one filter per input channel (times multiplier); lowers to conv with groups = channels.",
  params: [...common, { name: "multiplier", doc: "output channels per input channel", default: "1" }, { name: "bias", doc: "add a learned bias", default: "true" }],
  resolve(reader, inShape) {
    const channels = inShape && inShape.length === 3 ? inShape[2]! : 1;
    const multiplier = reader.int("multiplier", 1, { ge: 1 });
    return { filters: channels * multiplier, ...readWindow(reader), groups: channels, bias: reader.bool("bias", true) };
  },
  infer: (args, inShape) => inferConv("dwconv", args, inShape),
  cost: convCost,
};
