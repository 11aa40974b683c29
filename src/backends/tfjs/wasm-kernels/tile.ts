// Tile as block copies. The stock wasm Tile computes a source index per output
// element and dominated training steps: tfjs's batch-norm gradient tiles a
// [1,1,1,C] tensor to [N,H,W,C] several times per layer.
import type { TensorInfo } from "@tensorflow/tfjs";
import { type WasmBackend } from "./wasm-internals.js";

type View = Float32Array | Int32Array | Uint8Array;

/**
 * out[i0..ir] = x[i0 % x0, ..., ir % xr]. Places x once at the origin, then for
 * each axis from innermost to outermost replicates the filled block along that
 * axis with copyWithin (memmove), so the work is a handful of large copies.
 */
export function tileWasm(backend: WasmBackend, x: TensorInfo, reps: number[]): TensorInfo {
  const rank = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  const out = backend.makeOutput(outShape, x.dtype);
  const src = backend.typedArrayFromHeap(x) as View;
  const dst = backend.typedArrayFromHeap(out) as View;
  if (dst.length === 0) return out;
  if (rank === 0) {
    dst[0] = src[0]!;
    return out;
  }
  const outStrides = new Array<number>(rank);
  outStrides[rank - 1] = 1;
  for (let a = rank - 2; a >= 0; a--) outStrides[a] = outStrides[a + 1]! * outShape[a + 1]!;
  placeOrigin(src, dst, x.shape, outStrides);
  for (let a = rank - 1; a >= 0; a--) {
    if (reps[a] === 1) continue;
    const block = x.shape[a]! * outStrides[a]!; // filled extent along axis a (and everything inside it)
    forEachOuterOffset(x.shape, outStrides, a, (offset) => {
      for (let r = 1; r < reps[a]!; r++) dst.copyWithin(offset + r * block, offset, offset + block);
    });
  }
  return out;
}

/** Copies x (row by row along the last axis) into the origin corner of out. */
function placeOrigin(src: View, dst: View, shape: number[], outStrides: number[]): void {
  const rank = shape.length;
  const rowLen = shape[rank - 1]!;
  let s = 0;
  forEachOuterOffset(shape, outStrides, rank - 1, (offset) => {
    dst.set(src.subarray(s, s + rowLen), offset);
    s += rowLen;
  });
}

/** Calls fn with the out offset of every index over axes < axis, each ranging over x's extent. */
function forEachOuterOffset(shape: number[], outStrides: number[], axis: number, fn: (offset: number) => void): void {
  if (axis === 0) {
    fn(0);
    return;
  }
  const idx = new Array<number>(axis).fill(0);
  for (;;) {
    let offset = 0;
    for (let i = 0; i < axis; i++) offset += idx[i]! * outStrides[i]!;
    fn(offset);
    let i = axis - 1;
    while (i >= 0 && ++idx[i]! === shape[i]!) idx[i--] = 0;
    if (i < 0) return;
  }
}
