// Sum / Mean over a contiguous block of axes without a transpose. The stock wasm
// kernels transpose the reduced axes to the end first, which costs a full copy of
// the tensor; batch norm's statistics and gradients reduce over [0,1,2] of NHWC
// tensors, and global average pooling over [1,2].
import type { TensorInfo } from "@tensorflow/tfjs";
import { util } from "@tensorflow/tfjs";
import { type WasmBackend, allocF32, disposeAll, f32 } from "./wasm-internals.js";
import { heapPointer, simdKernels } from "./simd-kernels.js";

/** Splits shape into [outer, reduced, inner] sizes when `axes` is one contiguous run; else null. */
export function contiguousReduction(shape: number[], axes: number[]): [number, number, number] | null {
  if (axes.length === 0) return null;
  const sorted = [...axes].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]! + 1) return null;
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const size = (from: number, to: number) => shape.slice(from, to).reduce((p, d) => p * d, 1);
  return [size(0, first), size(first, last + 1), size(last + 1, shape.length)];
}

/** Output shape of a reduction, keeping size-1 axes when keepDims. */
function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  const set = new Set(axes);
  return keepDims ? shape.map((d, i) => (set.has(i) ? 1 : d)) : shape.filter((_, i) => !set.has(i));
}

/**
 * out[o, i] = scale * sum_r x[o, r, i] for x viewed as [outer, reduced, inner].
 * Accumulates in float64 (the cpu backend accumulates in JS numbers too). When
 * inner % 4 == 0 this runs as wasm SIMD (simd-kernels.wat: float32 lanes over
 * blocks of 8 rows, float64 across blocks).
 */
export function reduceSumWasm(
  backend: WasmBackend, x: TensorInfo, axis: number | number[], keepDims: boolean, mean: boolean,
): TensorInfo | null {
  if (x.dtype !== "float32") return null;
  const axes = util.parseAxisParam(axis, x.shape);
  const split = contiguousReduction(x.shape, axes);
  if (split === null) return null;
  const [outer, reduced, inner] = split;
  const out = backend.makeOutput(reducedShape(x.shape, axes, keepDims), "float32");
  const scale = mean ? 1 / reduced : 1;
  const simd = inner % 4 === 0 && outer * reduced * inner > 0 ? simdKernels(backend) : null;
  if (simd !== null) {
    // float64 accumulators: inner doubles = 2 * inner float32 slots.
    const acc = allocF32(backend, [2 * inner]);
    simd.sumMiddle(heapPointer(backend, x), heapPointer(backend, out), heapPointer(backend, acc), outer, reduced, inner, scale);
    disposeAll(backend, [acc]);
    return out;
  }
  const src = f32(backend, x);
  const dst = f32(backend, out);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * reduced;
      for (let r = 0; r < reduced; r++) s += src[base + r]!;
      dst[o] = s * scale;
    }
    return out;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    const start = o * reduced * inner;
    // Four rows per pass: a quarter of the accumulator loads/stores, which dominate.
    let r = 0;
    for (; r + 4 <= reduced; r += 4) {
      const b0 = start + r * inner, b1 = b0 + inner, b2 = b1 + inner, b3 = b2 + inner;
      for (let i = 0; i < inner; i++) acc[i] += src[b0 + i]! + src[b1 + i]! + src[b2 + i]! + src[b3 + i]!;
    }
    for (; r < reduced; r++) {
      const b0 = start + r * inner;
      for (let i = 0; i < inner; i++) acc[i] += src[b0 + i]!;
    }
    for (let i = 0; i < inner; i++) dst[o * inner + i] = acc[i]! * scale;
  }
  return out;
}
