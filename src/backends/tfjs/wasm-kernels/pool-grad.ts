// Pooling gradients as single passes over the output positions with the channel
// axis innermost (contiguous in NHWC). Both stock wasm kernels are naive loops
// with the channel axis outermost.
import type { TensorInfo } from "@tensorflow/tfjs";
import { backend_util } from "@tensorflow/tfjs";
import { type WasmBackend, allocF32, f32 } from "./wasm-internals.js";
import { heapPointer, simdKernels } from "./simd-kernels.js";

/** Tunables; mutable so tests and benchmarks can compare the general loop with the 2x2 one. */
export const poolTuning = {
  /** Use the specialised loop for non-overlapping 2x2 windows with stride 2 (the common max pool). */
  tiled2x2: true,
};

/** 2x2 windows, stride 2, no dilation, every window inside the input (no padding reached). */
function isTiled2x2(info: backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 2 && info.filterWidth === 2 && info.strideHeight === 2 && info.strideWidth === 2
    && info.dilationHeight === 1 && info.dilationWidth === 1 && info.padInfo.top === 0 && info.padInfo.left === 0
    && 2 * info.outHeight <= info.inHeight && 2 * info.outWidth <= info.inWidth;
}

/**
 * maxPoolGradWasm for disjoint 2x2 windows: each window's four inputs are
 * written exactly once (dy at the argmax, 0 elsewhere), so there is no fill, no
 * scatter and no argmax buffer. Ties go to the first of (0,0), (0,1), (1,0), (1,1),
 * as in the general loop. Only an odd last row/column (outside every window) is zeroed.
 * With C % 4 == 0 the loop runs as wasm SIMD (simd-kernels.wat): branch-free
 * masks instead of the JS loop's unpredictable comparisons, ~4x faster.
 */
function maxPoolGrad2x2(backend: WasmBackend, dy: TensorInfo, input: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const dx = allocF32(backend, input.shape as number[]);
  const xs = f32(backend, input);
  const dys = f32(backend, dy);
  const out = f32(backend, dx);
  const C = info.inChannels, H = info.inHeight, W = info.inWidth, OH = info.outHeight, OW = info.outWidth;
  if (2 * OH < H || 2 * OW < W) out.fill(0);
  const simd = C % 4 === 0 ? simdKernels(backend) : null;
  if (simd !== null) {
    simd.maxPoolGrad2x2(heapPointer(backend, input), heapPointer(backend, dy), heapPointer(backend, dx), info.batchSize, H, W, C, OH, OW);
    return dx;
  }
  const rowStride = W * C;
  let g = 0;
  for (let b = 0; b < info.batchSize; b++) {
    for (let oh = 0; oh < OH; oh++) {
      let p00 = (b * H + 2 * oh) * rowStride;
      for (let ow = 0; ow < OW; ow++, p00 += 2 * C) {
        const p01 = p00 + C, p10 = p00 + rowStride, p11 = p10 + C;
        for (let c = 0; c < C; c++, g++) {
          const v00 = xs[p00 + c]!, v01 = xs[p01 + c]!, v10 = xs[p10 + c]!, v11 = xs[p11 + c]!;
          let m = v00, k = 0;
          if (v01 > m) { m = v01; k = 1; }
          if (v10 > m) { m = v10; k = 2; }
          if (v11 > m) k = 3;
          const d = dys[g]!;
          out[p00 + c] = k === 0 ? d : 0;
          out[p01 + c] = k === 1 ? d : 0;
          out[p10 + c] = k === 2 ? d : 0;
          out[p11 + c] = k === 3 ? d : 0;
        }
      }
    }
  }
  return dx;
}

/**
 * dx[argmax of each window] += dy[window]. The argmax is the first strictly
 * greatest element in row-major window order, as in tfjs's cpu backend, so ties
 * route the gradient to the same element.
 */
export function maxPoolGradWasm(backend: WasmBackend, dy: TensorInfo, input: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  if (poolTuning.tiled2x2 && isTiled2x2(info)) return maxPoolGrad2x2(backend, dy, input, info);
  const dx = allocF32(backend, input.shape as number[]);
  const xs = f32(backend, input);
  const dys = f32(backend, dy);
  const out = f32(backend, dx);
  out.fill(0);
  const C = info.inChannels, H = info.inHeight, W = info.inWidth, OH = info.outHeight, OW = info.outWidth;
  const sh = info.strideHeight, sw = info.strideWidth, pt = info.padInfo.top, pl = info.padInfo.left;
  const effH = info.effectiveFilterHeight, effW = info.effectiveFilterWidth;
  const dh = info.dilationHeight, dw = info.dilationWidth;
  const best = new Float32Array(C);
  const where = new Int32Array(C);
  let dyBase = 0;
  for (let b = 0; b < info.batchSize; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - pt;
      for (let ow = 0; ow < OW; ow++, dyBase += C) {
        const w0 = ow * sw - pl;
        let seen = false;
        for (let fh = 0; fh < effH; fh += dh) {
          const h = h0 + fh;
          if (h < 0 || h >= H) continue;
          for (let fw = 0; fw < effW; fw += dw) {
            const w = w0 + fw;
            if (w < 0 || w >= W) continue;
            const base = ((b * H + h) * W + w) * C;
            if (!seen) {
              // The first in-bounds element starts the running maximum (no per-window fill).
              for (let c = 0; c < C; c++) {
                best[c] = xs[base + c]!;
                where[c] = base + c;
              }
              seen = true;
              continue;
            }
            for (let c = 0; c < C; c++) {
              const v = xs[base + c]!;
              if (v > best[c]!) {
                best[c] = v;
                where[c] = base + c;
              }
            }
          }
        }
        if (!seen) continue;
        for (let c = 0; c < C; c++) out[where[c]!] += dys[dyBase + c]!;
      }
    }
  }
  return dx;
}

/**
 * dx[b,h,w,c] += dy[b,oh,ow,c] / (filterHeight * filterWidth) for every window
 * containing (h, w). Like tfjs (cpu and wasm), the divisor is the full window
 * size even where the window overlaps padding.
 */
export function avgPoolGradWasm(backend: WasmBackend, dy: TensorInfo, input: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const dx = allocF32(backend, input.shape as number[]);
  const dys = f32(backend, dy);
  const out = f32(backend, dx);
  out.fill(0);
  const C = info.inChannels, H = info.inHeight, W = info.inWidth, OH = info.outHeight, OW = info.outWidth;
  const sh = info.strideHeight, sw = info.strideWidth, pt = info.padInfo.top, pl = info.padInfo.left;
  const effH = info.effectiveFilterHeight, effW = info.effectiveFilterWidth;
  const dh = info.dilationHeight, dw = info.dilationWidth;
  const scale = 1 / (info.filterHeight * info.filterWidth);
  let dyBase = 0;
  for (let b = 0; b < info.batchSize; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - pt;
      for (let ow = 0; ow < OW; ow++, dyBase += C) {
        const w0 = ow * sw - pl;
        for (let fh = 0; fh < effH; fh += dh) {
          const h = h0 + fh;
          if (h < 0 || h >= H) continue;
          for (let fw = 0; fw < effW; fw += dw) {
            const w = w0 + fw;
            if (w < 0 || w >= W) continue;
            const base = ((b * H + h) * W + w) * C;
            for (let c = 0; c < C; c++) out[base + c] += dys[dyBase + c]! * scale;
          }
        }
      }
    }
  }
  return dx;
}
