// Depthwise conv gradients as tight typed-array loops over the wasm heap.
// Depthwise FLOPs are small (KH*KW per output element), so plain JS loops with
// the channel axis innermost (contiguous in NHWC) are adequate here.
//
// Filter [KH,KW,C,M]; output channel c*M+m reads input channel c.
import type { TensorInfo } from "@tensorflow/tfjs";
import { type WasmBackend, allocF32, f32 } from "./wasm-internals.js";
import type { ConvGeometry } from "./conv2d-backprop.js";

/** dW[kh,kw,c,m] = sum_{b,oh,ow} x[b, oh*s+kh*d-pt, ow*s+kw*d-pl, c] * dy[b,oh,ow,c*M+m]. */
export function depthwiseBackpropFilterWasm(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const dw = allocF32(backend, [g.kH, g.kW, g.inC, g.outC / g.inC]);
  const xs = f32(backend, x);
  const dys = f32(backend, dy);
  const out = f32(backend, dw);
  const C = g.inC;
  const CM = g.outC;
  const M = CM / C;
  // float64 accumulators: each entry sums n*OH*OW products.
  const acc = new Float64Array(g.kH * g.kW * CM);
  for (let kh = 0; kh < g.kH; kh++) {
    for (let kw = 0; kw < g.kW; kw++) {
      const accBase = (kh * g.kW + kw) * CM;
      for (let b = 0; b < g.batch; b++) {
        for (let oh = 0; oh < g.outH; oh++) {
          const h = oh * g.strideH + kh * g.dilationH - g.padTop;
          if (h < 0 || h >= g.inH) continue;
          for (let ow = 0; ow < g.outW; ow++) {
            const w = ow * g.strideW + kw * g.dilationW - g.padLeft;
            if (w < 0 || w >= g.inW) continue;
            const xBase = ((b * g.inH + h) * g.inW + w) * C;
            const dyBase = ((b * g.outH + oh) * g.outW + ow) * CM;
            if (M === 1) {
              for (let c = 0; c < C; c++) acc[accBase + c] += xs[xBase + c]! * dys[dyBase + c]!;
            } else {
              for (let c = 0; c < C; c++) {
                const xv = xs[xBase + c]!;
                for (let m = 0; m < M; m++) acc[accBase + c * M + m] += xv * dys[dyBase + c * M + m]!;
              }
            }
          }
        }
      }
    }
  }
  out.set(acc);
  return dw;
}

/** dx[b,h,w,c] = sum over (oh,ow,kh,kw) with oh*s+kh*d-pt = h (same for w) and m of dy[b,oh,ow,c*M+m] * W[kh,kw,c,m]. */
export function depthwiseBackpropInputWasm(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const dx = allocF32(backend, [g.batch, g.inH, g.inW, g.inC]);
  const dys = f32(backend, dy);
  const ws = f32(backend, filter);
  const out = f32(backend, dx);
  out.fill(0);
  const C = g.inC;
  const CM = g.outC;
  const M = CM / C;
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const dyBase = ((b * g.outH + oh) * g.outW + ow) * CM;
        for (let kh = 0; kh < g.kH; kh++) {
          const h = oh * g.strideH + kh * g.dilationH - g.padTop;
          if (h < 0 || h >= g.inH) continue;
          for (let kw = 0; kw < g.kW; kw++) {
            const w = ow * g.strideW + kw * g.dilationW - g.padLeft;
            if (w < 0 || w >= g.inW) continue;
            const dxBase = ((b * g.inH + h) * g.inW + w) * C;
            const wBase = (kh * g.kW + kw) * CM;
            if (M === 1) {
              for (let c = 0; c < C; c++) out[dxBase + c] += dys[dyBase + c]! * ws[wBase + c]!;
            } else {
              for (let c = 0; c < C; c++) {
                let s = 0;
                for (let m = 0; m < M; m++) s += dys[dyBase + c * M + m]! * ws[wBase + c * M + m]!;
                out[dxBase + c] += s;
              }
            }
          }
        }
      }
    }
  }
  return dx;
}
