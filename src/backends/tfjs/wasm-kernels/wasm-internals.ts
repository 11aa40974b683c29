// Thin, typed access to the internals of @tensorflow/tfjs-backend-wasm that our
// kernels need: tensor ids on the wasm heap, heap views, output allocation and
// the C entry points (cwrap) of kernels we reuse as building blocks.
//
// Heap views (Float32Array over wasm memory) are invalidated whenever the wasm
// memory grows, which any allocation can trigger. Rule used throughout: allocate
// every output/temporary first, then take views, and re-take views after calling
// into another kernel.
import type { TensorInfo, DataType, NamedAttrMap, KernelFunc } from "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs";

/** The subset of BackendWasm (tfjs-backend-wasm/dist/backend_wasm.d.ts) we use. */
export interface WasmBackend {
  wasm: {
    cwrap(name: string, ret: null, argTypes: string[]): (...args: unknown[]) => void;
    HEAPU8: Uint8Array;
  };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

export function tensorId(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).id;
}

export function f32(backend: WasmBackend, t: TensorInfo): Float32Array {
  const view = backend.typedArrayFromHeap(t);
  if (!(view instanceof Float32Array)) {
    throw new Error(`mex wasm kernel: expected a float32 tensor, got ${t.dtype}`);
  }
  return view;
}

/**
 * The whole wasm heap as float32 plus the element offset of each tensor in it, so
 * one typed array spans several tensors (copyWithin between tensors is a native
 * memmove). Same invalidation rule as the per-tensor views.
 */
export function heapF32(backend: WasmBackend): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer);
}

/** Element index of a float32 tensor's first value in heapF32(backend). */
export function heapIndex(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset / 4;
}

export function disposeAll(backend: WasmBackend, ts: TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

/** Allocates a float32 tensor on the wasm heap; its content is undefined. */
export function allocF32(backend: WasmBackend, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, "float32");
}

/** Calls another registered wasm kernel directly (no engine bookkeeping): the caller owns the output. */
export function callWasmKernel(
  name: string,
  backend: WasmBackend,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap,
): TensorInfo {
  const config = tf.getKernel(name, "wasm");
  if (config === undefined) throw new Error(`mex wasm kernel: '${name}' is not registered on wasm`);
  const kernelFunc = config.kernelFunc as KernelFunc;
  const out = kernelFunc({ inputs, backend: backend as never, attrs });
  return Array.isArray(out) ? out[0]! : out;
}

export function transpose(backend: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return callWasmKernel("Transpose", backend, { x }, { perm });
}

/** Explicit geometry for the XNNPACK-backed `Conv2D` C entry point of the wasm backend. */
export interface XnnConvGeometry {
  filterHeight: number;
  filterWidth: number;
  padTop: number;
  padRight: number;
  padBottom: number;
  padLeft: number;
  dilationHeight: number;
  dilationWidth: number;
  strideHeight: number;
  strideWidth: number;
}

type RawConv = (...args: number[]) => void;
const rawConvByBackend = new WeakMap<WasmBackend, Map<string, RawConv>>();

/** The C entry points `Conv2D` and `DepthwiseConv2dNative` share one 19-number signature. */
function rawConv(backend: WasmBackend, name: "Conv2D" | "DepthwiseConv2dNative"): RawConv {
  let fns = rawConvByBackend.get(backend);
  if (fns === undefined) rawConvByBackend.set(backend, (fns = new Map()));
  let fn = fns.get(name);
  if (fn === undefined) {
    fn = backend.wasm.cwrap(name, null, new Array<string>(19).fill("number")) as RawConv;
    fns.set(name, fn);
  }
  return fn;
}

/**
 * NHWC float32 convolution through XNNPACK with explicit (possibly asymmetric)
 * padding. x: [n, h, w, ci]; filter: [fh, fw, ci, co]. The output height is
 * (h + padTop + padBottom - ((fh-1)*dh + 1)) / sh + 1 (floored), likewise width.
 * XNNPACK caches its packed operator keyed by the filter tensor id and frees it
 * when that tensor is disposed, so temporary filters are fine.
 */
export function xnnConv2d(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, g: XnnConvGeometry): TensorInfo {
  return xnnConv(backend, "Conv2D", x, filter, g, filter.shape[3]!);
}

/**
 * Depthwise version of xnnConv2d: filter [fh, fw, c, m], output channel c*m + j
 * (tfjs layout), output [n, oh, ow, c*m].
 */
export function xnnDepthwiseConv2d(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, g: XnnConvGeometry): TensorInfo {
  return xnnConv(backend, "DepthwiseConv2dNative", x, filter, g, filter.shape[2]! * filter.shape[3]!);
}

function xnnConv(
  backend: WasmBackend, name: "Conv2D" | "DepthwiseConv2dNative", x: TensorInfo, filter: TensorInfo, g: XnnConvGeometry, co: number,
): TensorInfo {
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const effH = (g.filterHeight - 1) * g.dilationHeight + 1;
  const effW = (g.filterWidth - 1) * g.dilationWidth + 1;
  const outH = Math.floor((h + g.padTop + g.padBottom - effH) / g.strideHeight) + 1;
  const outW = Math.floor((w + g.padLeft + g.padRight - effW) / g.strideWidth) + 1;
  if (outH <= 0 || outW <= 0) throw new Error(`mex xnnConv2d: empty output ${outH}x${outW}`);
  const out = allocF32(backend, [n, outH, outW, co]);
  rawConv(backend, name)(
    tensorId(backend, x), n, h, w,
    tensorId(backend, filter), g.filterHeight, g.filterWidth,
    g.padTop, g.padRight, g.padBottom, g.padLeft, /* isSamePad */ 0,
    g.dilationHeight, g.dilationWidth, g.strideHeight, g.strideWidth,
    ci, co, tensorId(backend, out),
  );
  return out;
}
