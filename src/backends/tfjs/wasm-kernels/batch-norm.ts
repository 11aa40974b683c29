// Batch-norm forward as one pass: y = x * a[c] + b[c] with a = scale / sqrt(var + eps)
// and b = offset - mean * a precomputed per channel. The stock wasm kernel spends
// ~6 ns per element.
import type { TensorInfo } from "@tensorflow/tfjs";
import { type WasmBackend, allocF32, f32 } from "./wasm-internals.js";

/** Per-channel values of a statistic given as [C], [1,..,1,C] or a scalar-like [1]; null for other shapes. */
function perChannel(backend: WasmBackend, t: TensorInfo | undefined, channels: number, fallback: number): Float64Array | null {
  const out = new Float64Array(channels);
  if (t === undefined) return out.fill(fallback);
  const size = t.shape.reduce((p, d) => p * d, 1);
  const lastIsChannels = t.shape.length > 0 && t.shape[t.shape.length - 1] === channels && size === channels;
  if (!lastIsChannels && size !== 1) return null;
  const v = f32(backend, t);
  for (let c = 0; c < channels; c++) out[c] = v[size === 1 ? 0 : c]!;
  return out;
}

/** Returns null when the statistics are not per-channel (caller falls back to the stock kernel). */
export function batchNormWasm(
  backend: WasmBackend, x: TensorInfo, mean: TensorInfo, variance: TensorInfo,
  offset: TensorInfo | undefined, scale: TensorInfo | undefined, eps: number,
): TensorInfo | null {
  const C = x.shape[x.shape.length - 1] ?? 1;
  const m = perChannel(backend, mean, C, 0);
  const v = perChannel(backend, variance, C, 1);
  const o = perChannel(backend, offset, C, 0);
  const s = perChannel(backend, scale, C, 1);
  if (m === null || v === null || o === null || s === null) return null;
  const a = new Float32Array(C);
  const b = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    a[c] = s[c]! / Math.sqrt(v[c]! + eps);
    b[c] = o[c]! - m[c]! * a[c]!;
  }
  const out = allocF32(backend, x.shape as number[]);
  const xs = f32(backend, x);
  const ys = f32(backend, out);
  for (let base = 0; base < xs.length; base += C) {
    for (let c = 0; c < C; c++) ys[base + c] = xs[base + c]! * a[c]! + b[c]!;
  }
  return out;
}
