// A small hand-written wasm SIMD module (source: simd-kernels.wat next to this
// file) that runs on the tfjs wasm backend's own memory: it imports that memory,
// so tensors are addressed by their memoryOffset with no copies. For loops
// where JS is slow: the max-pool gradient (data-dependent branches, ~10 ns per
// window and channel in JS, mostly mispredictions) and Sum/Mean over middle axes.
import type { TensorInfo } from "@tensorflow/tfjs";
import type { WasmBackend } from "./wasm-internals.js";

/** base64 of the compiled simd-kernels.wat (regenerate when the .wat changes; command in its header). */
const SIMD_KERNELS_WASM_BASE64 =
  "AGFzbQEAAAABFwJgCX9/f39/f39/fwBgB39/f39/f3wAAg8BA2VudgZtZW1vcnkCAAEDAwIAAQceAg5tYXhQb29sR3JhZDJ4MgAACXN1bU1pZGRsZQABCuAFAusCAgh/CnsgBkECdCENIAUgDWwhDkEAIQkCQANAIAkgA08NAUEAIQoCQANAIAogB08NASAJIARsIApBAXRqIA5sIQ9BACELAkADQCALIAhPDQFBACEMAkADQCAMIA1PDQEgDyALQQF0IA1saiAMaiEQIAAgEGr9AAQAIREgACAQaiANav0ABAAhEiAAIBBqIA5q/QAEACETIAAgEGogDmogDWr9AAQAIRQgAf0ABAAhGiABQRBqIQEgEiAR/UQhFiASIBEgFv1SIRUgEyAV/UQhFyATIBUgF/1SIRUgFCAV/UQhGCAXIBj9UCEZIAIgEGogDmogDWogGiAY/U79CwQAIAIgEGogDmogGiAXIBj9T/1O/QsEACACIBBqIA1qIBogFiAZ/U/9Tv0LBAAgAiAQaiAaIBYgGf1Q/U/9CwQAIAxBEGohDAwACwsgC0EBaiELDAALCyAKQQFqIQoMAAsLIAlBAWohCQwACwsL8AIEB38BewF/AXsgBUECdCEMIAb9FCEQQQAhBwJAA0AgByADTw0BIAJBACAFQQN0/AsAQQAhCAJAA0AgCCAETw0BIAQgCGshCSAJQQhLBEBBCCEJC0EAIQsCQANAIAsgDE8NASAAIAcgBGwgCGogDGxqIAtqIQ0gDf0ABAAhDkEBIQoCQANAIAogCU8NASANIAxqIQ0gDiAN/QAEAP3kASEOIApBAWohCgwACwsgAiALQQF0aiEPIA8gD/0ABAAgDv1f/fAB/QsEACAPIA/9AAQQIA4gDv0NCAkKCwwNDg8AAQIDBAUGB/1f/fAB/QsEECALQRBqIQsMAAsLIAhBCGohCAwACwtBACELAkADQCALIAxPDQEgAiALQQF0aiEPIAEgByAMbGogC2ogD/0ABAAgEP3yAf1eIA/9AAQQIBD98gH9Xv0NAAECAwQFBgcQERITFBUWF/0LBAAgC0EQaiELDAALCyAHQQFqIQcMAAsLCw==";

export interface SimdKernels {
  /** See simd-kernels.wat. Pointers are byte offsets in the backend's heap; C % 4 == 0. */
  maxPoolGrad2x2(x: number, dy: number, out: number, B: number, H: number, W: number, C: number, OH: number, OW: number): void;
  /** dst[o,i] = scale * sum_r src[o,r,i]; inner % 4 == 0; acc: scratch of inner float64. */
  sumMiddle(src: number, dst: number, acc: number, outer: number, reduced: number, inner: number, scale: number): void;
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
