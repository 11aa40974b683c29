// Training kernels for the tfjs wasm backend. The stock wasm backend (4.22) has
// no Conv2DBackpropFilter and no depthwise backprop kernels, so a backward pass
// through a conv net fails there; its Conv2DBackpropInput is a naive loop. These
// replacements route the heavy work through XNNPACK forward convolutions (see
// conv2d-backprop.ts) or tight typed-array loops.
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import type { WasmBackend } from "./wasm-internals.js";
import { conv2dBackpropFilterWasm, conv2dBackpropInputWasm, convGeometry } from "./conv2d-backprop.js";
import { depthwiseBackpropFilterWasm, depthwiseBackpropInputWasm } from "./depthwise-backprop.js";

type Inputs = Record<string, TensorInfo>;
type MexKernel = (inputs: Inputs, backend: WasmBackend, attrs: NamedAttrMap) => TensorInfo;

/** Stock wasm kernels we replaced, kept as fallbacks for cases our fast paths decline. */
const stockKernels = new Map<string, KernelConfig>();

function input(inputs: Inputs, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`mex wasm ${kernel}: missing input '${name}'`);
  if (t.dtype !== "float32") throw new Error(`mex wasm ${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  return t;
}

function callStock(name: string, inputs: Inputs, backend: WasmBackend, attrs: NamedAttrMap): TensorInfo {
  const stock = stockKernels.get(name);
  if (stock === undefined) throw new Error(`mex wasm ${name}: no fallback kernel for this geometry`);
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
  return conv2dBackpropInputWasm(backend, dy, filter, g) ?? callStock("Conv2DBackpropInput", inputs, backend, attrs);
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
  return depthwiseBackpropInputWasm(backend, dy, filter, g);
};

/** Kernel name -> implementation. Exported so tests can enumerate what we register. */
export const MEX_WASM_KERNELS: ReadonlyArray<readonly [string, MexKernel]> = [
  ["Conv2DBackpropFilter", conv2dBackpropFilter],
  ["Conv2DBackpropInput", conv2dBackpropInput],
  ["DepthwiseConv2dNativeBackpropFilter", depthwiseBackpropFilter],
  ["DepthwiseConv2dNativeBackpropInput", depthwiseBackpropInput],
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
 * Registers the mex training kernels on the 'wasm' backend, replacing stock
 * ones where ours are faster. Idempotent. Returns the names of the kernels
 * that are now served by mex.
 */
export function registerWasmTrainingKernels(): string[] {
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
