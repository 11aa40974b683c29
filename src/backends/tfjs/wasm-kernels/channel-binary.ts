// Multiply, Add and Sub where one float32 operand holds one value per channel
// (shape [C] or [1,...,1,C]) and the other is a full [..., C] tensor: batch
// norm's x - mean, dy * gain and friends. The stock wasm kernels take a generic
// broadcasting path (index arithmetic per element) that runs ~2x slower than
// their same-shape path; this is one SIMD pass (simd-kernels.wat).
import type { TensorInfo } from "@tensorflow/tfjs";
import { type WasmBackend, allocF32 } from "./wasm-internals.js";
import { type SimdKernels, heapPointer, simdKernels } from "./simd-kernels.js";

export type ChannelOp = "Multiply" | "Add" | "Sub";

/** True when `small` broadcasts against `big` only along big's last axis (C % 4 == 0, rank(small) <= rank(big)). */
function isPerChannel(big: TensorInfo, small: TensorInfo): boolean {
  const rb = big.shape.length, rs = small.shape.length;
  if (rb < 2 || rs < 1 || rs > rb) return false;
  const C = big.shape[rb - 1]!;
  if (C % 4 !== 0 || C === 0 || small.shape[rs - 1] !== C) return false;
  for (let i = 0; i < rs - 1; i++) if (small.shape[i] !== 1) return false;
  return big.shape.every((d) => d > 0);
}

/** a (op) b when one of them is per-channel and the other full; null for any other case (caller uses the stock kernel). */
export function channelBinaryWasm(backend: WasmBackend, op: ChannelOp, a: TensorInfo, b: TensorInfo): TensorInfo | null {
  if (a.dtype !== "float32" || b.dtype !== "float32") return null;
  const bigFirst = isPerChannel(a, b);
  if (!bigFirst && !isPerChannel(b, a)) return null;
  const simd = simdKernels(backend);
  if (simd === null) return null;
  const [big, small] = bigFirst ? [a, b] : [b, a];
  const out = allocF32(backend, big.shape.slice());
  const n = big.shape.reduce((p, d) => p * d, 1);
  const fn: SimdKernels["mulChannel"] =
    op === "Multiply" ? simd.mulChannel : op === "Add" ? simd.addChannel : bigFirst ? simd.subChannel : simd.rsubChannel;
  fn(heapPointer(backend, big), heapPointer(backend, small), heapPointer(backend, out), n, big.shape[big.shape.length - 1]!);
  return out;
}
