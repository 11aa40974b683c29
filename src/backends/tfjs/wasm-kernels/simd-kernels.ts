// A small hand-written wasm SIMD module (source: simd-kernels.wat next to this
// file) that runs on the tfjs wasm backend's own memory: it imports that memory,
// so tensors are addressed by their memoryOffset with no copies. For loops
// where JS is slow: the max-pool gradient (data-dependent branches, ~10 ns per
// window and channel in JS, mostly mispredictions), Sum/Mean over middle axes and
// batch norm's per-channel scale and shift (one pass instead of Multiply + Add).
import type { TensorInfo } from "@tensorflow/tfjs";
import type { WasmBackend } from "./wasm-internals.js";

/** base64 of the compiled simd-kernels.wat (regenerate when the .wat changes; command in its header). */
const SIMD_KERNELS_WASM_BASE64 =
  "AGFzbQEAAAABHwNgCX9/f39/f39/fwBgB39/f39/f3wAYAV/f39/fwACDwEDZW52Bm1lbW9yeQIAAQMEAwABAgcrAw5tYXhQb29sR3JhZDJ4MgAACXN1bU1pZGRsZQABCnNjYWxlU2hpZnQAAgreBgPrAgIIfwp7IAZBAnQhDSAFIA1sIQ5BACEJAkADQCAJIANPDQFBACEKAkADQCAKIAdPDQEgCSAEbCAKQQF0aiAObCEPQQAhCwJAA0AgCyAITw0BQQAhDAJAA0AgDCANTw0BIA8gC0EBdCANbGogDGohECAAIBBq/QAEACERIAAgEGogDWr9AAQAIRIgACAQaiAOav0ABAAhEyAAIBBqIA5qIA1q/QAEACEUIAH9AAQAIRogAUEQaiEBIBIgEf1EIRYgEiARIBb9UiEVIBMgFf1EIRcgEyAVIBf9UiEVIBQgFf1EIRggFyAY/VAhGSACIBBqIA5qIA1qIBogGP1O/QsEACACIBBqIA5qIBogFyAY/U/9Tv0LBAAgAiAQaiANaiAaIBYgGf1P/U79CwQAIAIgEGogGiAWIBn9UP1P/QsEACAMQRBqIQwMAAsLIAtBAWohCwwACwsgCkEBaiEKDAALCyAJQQFqIQkMAAsLC/ACBAd/AXsBfwF7IAVBAnQhDCAG/RQhEEEAIQcCQANAIAcgA08NASACQQAgBUEDdPwLAEEAIQgCQANAIAggBE8NASAEIAhrIQkgCUEISwRAQQghCQtBACELAkADQCALIAxPDQEgACAHIARsIAhqIAxsaiALaiENIA39AAQAIQ5BASEKAkADQCAKIAlPDQEgDSAMaiENIA4gDf0ABAD95AEhDiAKQQFqIQoMAAsLIAIgC0EBdGohDyAPIA/9AAQAIA79X/3wAf0LBAAgDyAP/QAEECAOIA79DQgJCgsMDQ4PAAECAwQFBgf9X/3wAf0LBBAgC0EQaiELDAALCyAIQQhqIQgMAAsLQQAhCwJAA0AgCyAMTw0BIAIgC0EBdGohDyABIAcgDGxqIAtqIA/9AAQAIBD98gH9XiAP/QAEECAQ/fIB/V79DQABAgMEBQYHEBESExQVFhf9CwQAIAtBEGohCwwACwsgB0EBaiEHDAALCwt9AQR/IARBAnQhBiAAIANBAnRqIQUgAiAGaiEIAkADQCAAIAVPDQFBACEHAkADQCAHIAZPDQEgASAHaiAAIAdq/QAEACACIAdq/QAEAP3mASAIIAdq/QAEAP3kAf0LBAAgB0EQaiEHDAALCyAAIAZqIQAgASAGaiEBDAALCws=";

export interface SimdKernels {
  /** See simd-kernels.wat. Pointers are byte offsets in the backend's heap; C % 4 == 0. */
  maxPoolGrad2x2(x: number, dy: number, out: number, B: number, H: number, W: number, C: number, OH: number, OW: number): void;
  /** dst[o,i] = scale * sum_r src[o,r,i]; inner % 4 == 0; acc: scratch of inner float64. */
  sumMiddle(src: number, dst: number, acc: number, outer: number, reduced: number, inner: number, scale: number): void;
  /** dst[p,c] = src[p,c] * coef[c] + coef[C+c] over n elements; C % 4 == 0. */
  scaleShift(src: number, dst: number, coef: number, n: number, C: number): void;
}

/** The few WebAssembly JS API members used here (the project's TS libs do not declare WebAssembly). */
interface WasmJsApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: abstract new (...args: never[]) => object;
}

interface EmscriptenModule {
  asm?: { memory?: unknown };
}

let compiled: object | undefined;
const instances = new WeakMap<WasmBackend, SimdKernels | null>();

/** Tunables; mutable so tests and benchmarks can compare with the JS loops. */
export const simdTuning = { enabled: true };

/**
 * The SIMD kernels bound to this backend's memory, or null when they cannot be
 * used (disabled, no wasm SIMD, memory not reachable): callers then use JS loops.
 */
export function simdKernels(backend: WasmBackend): SimdKernels | null {
  if (!simdTuning.enabled) return null;
  const known = instances.get(backend);
  if (known !== undefined) return known;
  let kernels: SimdKernels | null = null;
  try {
    const api = (globalThis as unknown as { WebAssembly?: WasmJsApi }).WebAssembly;
    const memory = (backend.wasm as unknown as EmscriptenModule).asm?.memory;
    if (api !== undefined && memory instanceof api.Memory) {
      compiled ??= new api.Module(Uint8Array.from(atob(SIMD_KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0)));
      kernels = new api.Instance(compiled, { env: { memory } }).exports as SimdKernels;
    }
  } catch {
    // No wasm SIMD (or an engine that rejects the module): the JS loops serve.
    kernels = null;
  }
  instances.set(backend, kernels);
  return kernels;
}

/** Byte offset of a tensor's data in the backend's heap. */
export function heapPointer(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}
