// A small hand-written wasm SIMD module (source: simd-kernels.wat next to this
// file) that runs on the tfjs wasm backend's own memory: it imports that memory,
// so tensors are addressed by their memoryOffset with no copies. For loops
// where JS is slow: the max-pool gradient (data-dependent branches, ~10 ns per
// window and channel in JS, mostly mispredictions), Sum/Mean over middle axes and
// batch norm's per-channel scale and shift (one pass instead of Multiply + Add),
// a 4x4-block matrix transpose (the conv filter gradient's channel-major copy of x)
// and Multiply/Add/Sub with a per-channel operand (the stock kernels' broadcast path
// computes indices per element).
import type { TensorInfo } from "@tensorflow/tfjs";
import type { WasmBackend } from "./wasm-internals.js";

/** base64 of the compiled simd-kernels.wat (regenerate when the .wat changes; command in its header). */
const SIMD_KERNELS_WASM_BASE64 =
  "AGFzbQEAAAABJgRgCX9/f39/f39/fwBgB39/f39/f3wAYAV/f39/fwBgBH9/f38AAg8BA2VudgZtZW1vcnkCAAEDCQgAAQIDAgICAgduCA5tYXhQb29sR3JhZDJ4MgAACXN1bU1pZGRsZQABCnNjYWxlU2hpZnQAAgt0cmFuc3Bvc2UyZAADCm11bENoYW5uZWwABAphZGRDaGFubmVsAAUKc3ViQ2hhbm5lbAAGC3JzdWJDaGFubmVsAAcKqg0I6wICCH8KeyAGQQJ0IQ0gBSANbCEOQQAhCQJAA0AgCSADTw0BQQAhCgJAA0AgCiAHTw0BIAkgBGwgCkEBdGogDmwhD0EAIQsCQANAIAsgCE8NAUEAIQwCQANAIAwgDU8NASAPIAtBAXQgDWxqIAxqIRAgACAQav0ABAAhESAAIBBqIA1q/QAEACESIAAgEGogDmr9AAQAIRMgACAQaiAOaiANav0ABAAhFCAB/QAEACEaIAFBEGohASASIBH9RCEWIBIgESAW/VIhFSATIBX9RCEXIBMgFSAX/VIhFSAUIBX9RCEYIBcgGP1QIRkgAiAQaiAOaiANaiAaIBj9Tv0LBAAgAiAQaiAOaiAaIBcgGP1P/U79CwQAIAIgEGogDWogGiAWIBn9T/1O/QsEACACIBBqIBogFiAZ/VD9T/0LBAAgDEEQaiEMDAALCyALQQFqIQsMAAsLIApBAWohCgwACwsgCUEBaiEJDAALCwvwAgQHfwF7AX8BeyAFQQJ0IQwgBv0UIRBBACEHAkADQCAHIANPDQEgAkEAIAVBA3T8CwBBACEIAkADQCAIIARPDQEgBCAIayEJIAlBCEsEQEEIIQkLQQAhCwJAA0AgCyAMTw0BIAAgByAEbCAIaiAMbGogC2ohDSAN/QAEACEOQQEhCgJAA0AgCiAJTw0BIA0gDGohDSAOIA39AAQA/eQBIQ4gCkEBaiEKDAALCyACIAtBAXRqIQ8gDyAP/QAEACAO/V/98AH9CwQAIA8gD/0ABBAgDiAO/Q0ICQoLDA0ODwABAgMEBQYH/V/98AH9CwQQIAtBEGohCwwACwsgCEEIaiEIDAALC0EAIQsCQANAIAsgDE8NASACIAtBAXRqIQ8gASAHIAxsaiALaiAP/QAEACAQ/fIB/V4gD/0ABBAgEP3yAf1e/Q0AAQIDBAUGBxAREhMUFRYX/QsEACALQRBqIQsMAAsLIAdBAWohBwwACwsLfQEEfyAEQQJ0IQYgACADQQJ0aiEFIAIgBmohCAJAA0AgACAFTw0BQQAhBwJAA0AgByAGTw0BIAEgB2ogACAHav0ABAAgAiAHav0ABAD95gEgCCAHav0ABAD95AH9CwQAIAdBEGohBwwACwsgACAGaiEAIAEgBmohAQwACwsL9gICBn8IeyADQQJ0IQYgAkECdCEHQQAhBAJAA0AgBCACTw0BQQAhBQJAA0AgBSAGTw0BIAAgBCAGbGogBWohCCABIAVBAnYgB2xqIARBAnRqIQkgCP0ABAAhCiAIIAZq/QAEACELIAggBkEBdGr9AAQAIQwgCCAGQQNsav0ABAAhDSAKIAv9DQABAgMQERITBAUGBxQVFhchDiAKIAv9DQgJCgsYGRobDA0ODxwdHh8hDyAMIA39DQABAgMQERITBAUGBxQVFhchECAMIA39DQgJCgsYGRobDA0ODxwdHh8hESAJIA4gEP0NAAECAwQFBgcQERITFBUWF/0LBAAgCSAHaiAOIBD9DQgJCgsMDQ4PGBkaGxwdHh/9CwQAIAkgB0EBdGogDyAR/Q0AAQIDBAUGBxAREhMUFRYX/QsEACAJIAdBA2xqIA8gEf0NCAkKCwwNDg8YGRobHB0eH/0LBAAgBUEQaiEFDAALCyAEQQRqIQQMAAsLC3QCA38CeyAEQQJ0IQYgACADQQJ0aiEFAkADQCAAIAVPDQFBACEHAkADQCAHIAZPDQEgACAHav0ABAAhCCABIAdq/QAEACEJIAIgB2ogCCAJ/eYB/QsEACAHQRBqIQcMAAsLIAAgBmohACACIAZqIQIMAAsLC3QCA38CeyAEQQJ0IQYgACADQQJ0aiEFAkADQCAAIAVPDQFBACEHAkADQCAHIAZPDQEgACAHav0ABAAhCCABIAdq/QAEACEJIAIgB2ogCCAJ/eQB/QsEACAHQRBqIQcMAAsLIAAgBmohACACIAZqIQIMAAsLC3QCA38CeyAEQQJ0IQYgACADQQJ0aiEFAkADQCAAIAVPDQFBACEHAkADQCAHIAZPDQEgACAHav0ABAAhCCABIAdq/QAEACEJIAIgB2ogCCAJ/eUB/QsEACAHQRBqIQcMAAsLIAAgBmohACACIAZqIQIMAAsLC3QCA38CeyAEQQJ0IQYgACADQQJ0aiEFAkADQCAAIAVPDQFBACEHAkADQCAHIAZPDQEgACAHav0ABAAhCCABIAdq/QAEACEJIAIgB2ogCSAI/eUB/QsEACAHQRBqIQcMAAsLIAAgBmohACACIAZqIQIMAAsLCw==";

export interface SimdKernels {
  /** See simd-kernels.wat. Pointers are byte offsets in the backend's heap; C % 4 == 0. */
  maxPoolGrad2x2(x: number, dy: number, out: number, B: number, H: number, W: number, C: number, OH: number, OW: number): void;
  /** dst[o,i] = scale * sum_r src[o,r,i]; inner % 4 == 0; acc: scratch of inner float64. */
  sumMiddle(src: number, dst: number, acc: number, outer: number, reduced: number, inner: number, scale: number): void;
  /** dst[p,c] = src[p,c] * coef[c] + coef[C+c] over n elements; C % 4 == 0. */
  scaleShift(src: number, dst: number, coef: number, n: number, C: number): void;
  /** out[c,r] = src[r,c] for src [R, C]; R % 4 == 0 and C % 4 == 0. */
  transpose2d(src: number, out: number, R: number, C: number): void;
  /** out[p,c] = big[p,c] (op) small[c] over n elements; C % 4 == 0. rsub: small - big. */
  mulChannel(big: number, small: number, out: number, n: number, C: number): void;
  addChannel(big: number, small: number, out: number, n: number, C: number): void;
  subChannel(big: number, small: number, out: number, n: number, C: number): void;
  rsubChannel(big: number, small: number, out: number, n: number, C: number): void;
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
