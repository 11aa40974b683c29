// Pooling gradients as single passes over the output positions with the channel
// axis innermost (contiguous in NHWC). Both stock wasm kernels are naive loops
// with the channel axis outermost.
import type { TensorInfo } from "@tensorflow/tfjs";
import { backend_util } from "@tensorflow/tfjs";
import { type WasmBackend, allocF32, f32 } from "./wasm-internals.js";

/**
 * dx[argmax of each window] += dy[window]. The argmax is the first strictly
 * greatest element in row-major window order, as in tfjs's cpu backend, so ties
 * route the gradient to the same element.
 */
export function maxPoolGradWasm(backend: WasmBackend, dy: TensorInfo, input: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
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
