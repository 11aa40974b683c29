// Training kernels for the tfjs wasm backend. The stock wasm backend (4.22) has
// no Conv2DBackpropFilter and no depthwise backprop kernels, so a backward pass
// through a conv net fails there, and several kernels a backward pass leans on
// are slow (naive Conv2DBackpropInput and pooling gradients, a per-element Tile,
// transposing Sum/Mean, copying Identity/Cast). Ours put the arithmetic into
// XNNPACK (forward convs, plain matmuls) and the rest into tight typed-array
// loops over the wasm heap:
//   Conv2DBackpropFilter           im2col (shifted-plane memmoves at stride 1 'same', else JS) + one XNNPACK matmul
//   Conv2DBackpropInput            stride 1: XNNPACK conv with the flipped filter; strided: matmul + col2im
//   DepthwiseConv2dNativeBackpropInput   XNNPACK depthwise conv with the flipped filter
//   DepthwiseConv2dNativeBackpropFilter  JS loop
//   MaxPoolGrad, AvgPoolGrad       one pass over output windows (2x2/stride 2 max: wasm SIMD)
//   Tile                           block copies; Sum, Mean: no transpose (wasm SIMD when inner % 4 == 0)
//   FusedBatchNorm                 one pass with per-channel gain/shift (wasm SIMD)
//   Multiply, Add, Sub             per-channel operand: one wasm SIMD pass; else stock
//   (wasm SIMD = our own small module, simd-kernels.wat, run on the backend's heap;
//    it also serves MaxPoolGrad 2x2, Sum/Mean and the dW transpose)
//   Identity, Cast (same dtype)    share the buffer (reference counted)
import * as tf from "@tensorflow/tfjs";
import { backend_util } from "@tensorflow/tfjs";
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import type { WasmBackend } from "./wasm-internals.js";
import { conv2dBackpropFilterWasm, conv2dBackpropInputWasm, convGeometry } from "./conv2d-backprop.js";
import { depthwiseBackpropFilterWasm, depthwiseBackpropInputWasm, depthwiseBackpropInputXnn } from "./depthwise-backprop.js";
import { tileWasm } from "./tile.js";
import { reduceSumWasm } from "./reduce.js";
import { avgPoolGradWasm, maxPoolGradWasm } from "./pool-grad.js";
import { registerDilatedConvGradients } from "./dilated-conv-gradients.js";
import { registerLeanGradients } from "./lean-gradients.js";
import { fusedBatchNormWasm } from "./batch-norm.js";
import { type ChannelOp, channelBinaryWasm } from "./channel-binary.js";

type Inputs = Record<string, TensorInfo>;
type MexKernel = (inputs: Inputs, backend: WasmBackend, attrs: NamedAttrMap) => TensorInfo;

/** Stock wasm kernels we replaced, kept as fallbacks for cases our fast paths decline. */
const stockKernels = new Map<string, KernelConfig>();

function anyInput(inputs: Inputs, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`mex wasm ${kernel}: missing input '${name}'`);
  return t;
}

function input(inputs: Inputs, name: string, kernel: string): TensorInfo {
  const t = anyInput(inputs, name, kernel);
  if (t.dtype !== "float32") throw new Error(`mex wasm ${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  return t;
}

/** Backends on which a stock kernel's setupFunc (its cwrap) has run; the engine only sets up registered kernels. */
const stockSetUp = new WeakMap<WasmBackend, Set<string>>();

function callStock(name: string, inputs: Inputs, backend: WasmBackend, attrs: NamedAttrMap): TensorInfo {
  const stock = stockKernels.get(name);
  if (stock === undefined) throw new Error(`mex wasm ${name}: no fallback kernel for this geometry`);
  let done = stockSetUp.get(backend);
  if (done === undefined) stockSetUp.set(backend, (done = new Set()));
  if (!done.has(name)) {
    stock.setupFunc?.(backend as never);
    done.add(name);
  }
  const out = (stock.kernelFunc as KernelFunc)({ inputs, backend: backend as never, attrs });
  return Array.isArray(out) ? out[0]! : out;
}

const conv2dBackpropFilter: MexKernel = (inputs, backend, attrs) => {
  const x = input(inputs, "x", "Conv2DBackpropFilter");
  const dy = input(inputs, "dy", "Conv2DBackpropFilter");
  const g = convGeometry(x.shape, attrs["filterShape"] as number[], attrs);
  return conv2dBackpropFilterWasm(backend, x, dy, g);
};

const conv2dBackpropInput: MexKernel = (inputs, backend, attrs) => {
  const dy = input(inputs, "dy", "Conv2DBackpropInput");
  const filter = input(inputs, "filter", "Conv2DBackpropInput");
  const g = convGeometry(attrs["inputShape"] as number[], filter.shape, attrs);
  return conv2dBackpropInputWasm(backend, dy, filter, g);
};

const depthwiseBackpropFilter: MexKernel = (inputs, backend, attrs) => {
  const x = input(inputs, "x", "DepthwiseConv2dNativeBackpropFilter");
  const dy = input(inputs, "dy", "DepthwiseConv2dNativeBackpropFilter");
  const g = convGeometry(x.shape, attrs["filterShape"] as number[], attrs, true);
  return depthwiseBackpropFilterWasm(backend, x, dy, g);
};

const depthwiseBackpropInput: MexKernel = (inputs, backend, attrs) => {
  const dy = input(inputs, "dy", "DepthwiseConv2dNativeBackpropInput");
  const filter = input(inputs, "filter", "DepthwiseConv2dNativeBackpropInput");
  const g = convGeometry(attrs["inputShape"] as number[], filter.shape, attrs, true);
  return depthwiseBackpropInputXnn(backend, dy, filter, g) ?? depthwiseBackpropInputWasm(backend, dy, filter, g);
};

const tile: MexKernel = (inputs, backend, attrs) => {
  const x = anyInput(inputs, "x", "Tile");
  if (x.dtype === "string") return callStock("Tile", inputs, backend, attrs);
  return tileWasm(backend, x, attrs["reps"] as number[]);
};

function reduction(name: "Sum" | "Mean"): MexKernel {
  return (inputs, backend, attrs) => {
    const x = anyInput(inputs, "x", name);
    const out = reduceSumWasm(backend, x, attrs["axis"] as number | number[], attrs["keepDims"] === true, name === "Mean");
    return out ?? callStock(name, inputs, backend, attrs);
  };
}

function poolInfo(x: TensorInfo, attrs: NamedAttrMap): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs["filterSize"] as [number, number] | number,
    attrs["strides"] as [number, number] | number,
    1,
    attrs["pad"] as "same" | "valid" | number,
    attrs["dimRoundingMode"] as "floor" | "round" | "ceil" | undefined,
  );
}

const maxPoolGrad: MexKernel = (inputs, backend, attrs) => {
  const dy = input(inputs, "dy", "MaxPoolGrad");
  const x = input(inputs, "input", "MaxPoolGrad");
  return maxPoolGradWasm(backend, dy, x, poolInfo(x, attrs));
};

const avgPoolGrad: MexKernel = (inputs, backend, attrs) => {
  const dy = input(inputs, "dy", "AvgPoolGrad");
  const x = input(inputs, "input", "AvgPoolGrad");
  return avgPoolGradWasm(backend, dy, x, poolInfo(x, attrs));
};

const fusedBatchNorm: MexKernel = (inputs, backend, attrs) => {
  const x = anyInput(inputs, "x", "FusedBatchNorm");
  const eps = (attrs["varianceEpsilon"] as number | undefined) ?? 0.001;
  const out = fusedBatchNormWasm(
    backend, x, anyInput(inputs, "mean", "FusedBatchNorm"), anyInput(inputs, "variance", "FusedBatchNorm"),
    inputs["offset"] ?? undefined, inputs["scale"] ?? undefined, eps,
  );
  return out ?? callStock("FusedBatchNorm", inputs, backend, attrs);
};

function channelBinary(op: ChannelOp): MexKernel {
  return (inputs, backend, attrs) => {
    const a = anyInput(inputs, "a", op);
    const b = anyInput(inputs, "b", op);
    return channelBinaryWasm(backend, op, a, b) ?? callStock(op, inputs, backend, attrs);
  };
}

/**
 * Identity shares the input's buffer (reference counted), as the cpu backend
 * does; the stock wasm Identity copies, and the engine calls it ~60 times per
 * training step (tf.clone, gradient bookkeeping).
 */
const identity: MexKernel = (inputs, backend, attrs) => {
  const x = anyInput(inputs, "x", "Identity");
  if (x.dtype === "string") return callStock("Identity", inputs, backend, attrs);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Cast to the same dtype shares the buffer (the stock kernel copies; tfjs casts float32 activations to float32 often). */
const cast: MexKernel = (inputs, backend, attrs) => {
  const x = anyInput(inputs, "x", "Cast");
  if (x.dtype === "string" || attrs["dtype"] !== x.dtype) return callStock("Cast", inputs, backend, attrs);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Kernel name -> implementation. Exported so tests can enumerate what we register. */
export const MEX_WASM_KERNELS: ReadonlyArray<readonly [string, MexKernel]> = [
  ["Conv2DBackpropFilter", conv2dBackpropFilter],
  ["Conv2DBackpropInput", conv2dBackpropInput],
  ["DepthwiseConv2dNativeBackpropFilter", depthwiseBackpropFilter],
  ["DepthwiseConv2dNativeBackpropInput", depthwiseBackpropInput],
  ["Tile", tile],
  ["Sum", reduction("Sum")],
  ["Mean", reduction("Mean")],
  ["MaxPoolGrad", maxPoolGrad],
  ["AvgPoolGrad", avgPoolGrad],
  ["FusedBatchNorm", fusedBatchNorm],
  ["Multiply", channelBinary("Multiply")],
  ["Add", channelBinary("Add")],
  ["Sub", channelBinary("Sub")],
  ["Identity", identity],
  ["Cast", cast],
];

const MEX_MARK = Symbol.for("mex.wasmTrainingKernel");

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config.kernelFunc as unknown as Record<symbol, boolean>)[MEX_MARK] === true;
}

function toKernelFunc(kernel: MexKernel): KernelFunc {
  const fn = ((args: { inputs: Inputs; backend: unknown; attrs?: NamedAttrMap }) =>
    kernel(args.inputs, args.backend as WasmBackend, args.attrs ?? {})) as unknown as KernelFunc;
  (fn as unknown as Record<symbol, boolean>)[MEX_MARK] = true;
  return fn;
}

/**
 * Gradient configs for every backend (gradients are global in tfjs): dilated
 * Conv2D / DepthwiseConv2dNative, which tfjs-core 4.22 rejects, and leaner
 * FusedBatchNorm / Mean / Sum gradients (same maths, fewer passes). Idempotent.
 * Note: tf.fused.conv2d (what tf.layers.conv2d runs) has its own gradient
 * closure in tfjs-core that still rejects dilation; dilated convs must use tf.conv2d.
 */
export function registerTrainingGradients(): void {
  registerDilatedConvGradients();
  registerLeanGradients();
}

/**
 * Registers the mex training kernels on the 'wasm' backend, replacing stock
 * ones where ours are faster, plus registerTrainingGradients(). Idempotent.
 * Returns the names of the kernels now served by mex on wasm.
 */
export function registerWasmTrainingKernels(): string[] {
  registerTrainingGradients();
  const names: string[] = [];
  for (const [kernelName, kernel] of MEX_WASM_KERNELS) {
    names.push(kernelName);
    const existing = tf.getKernel(kernelName, "wasm");
    if (isOurs(existing)) continue;
    if (existing !== undefined) {
      stockKernels.set(kernelName, existing);
      tf.unregisterKernel(kernelName, "wasm");
    }
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: toKernelFunc(kernel) });
  }
  return names;
}
