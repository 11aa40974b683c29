// Depthwise conv gradients. The input gradient is a depthwise forward conv that
// XNNPACK runs (the flipped filter over dy). The filter gradient is a tight
// typed-array loop with the channel axis innermost: a depthwise conv with dy as
// the filter (batch folded into channels) measured no faster, XNNPACK being
// tuned for small kernels.
//
// Filter [KH,KW,C,M]; output channel c*M+m reads input channel c.
import type { TensorInfo } from "@tensorflow/tfjs";
import { type WasmBackend, allocF32, disposeAll, f32, xnnDepthwiseConv2d } from "./wasm-internals.js";
import type { ConvGeometry } from "./conv2d-backprop.js";

/**
 * dx via XNNPACK: each output channel c*M+m convolved back with its spatially
 * flipped tap, then the M results per input channel summed. Strided convs first
 * spread dy out by the stride (zeros in between): s^2 more arithmetic, still far
 * faster than the JS loop. Returns null when the padding rule this needs fails.
 */
export function depthwiseBackpropInputXnn(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo | null {
  const effH = (g.kH - 1) * g.dilationH + 1;
  const effW = (g.kW - 1) * g.dilationW + 1;
  const spreadH = (g.outH - 1) * g.strideH + 1;
  const spreadW = (g.outW - 1) * g.strideW + 1;
  const padTop = effH - 1 - g.padTop;
  const padLeft = effW - 1 - g.padLeft;
  const padBottom = g.inH - 1 + effH - spreadH - padTop;
  const padRight = g.inW - 1 + effW - spreadW - padLeft;
  if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) return null;
  const CM = g.outC;
  const M = CM / g.inC;
  const flipped = allocF32(backend, [g.kH, g.kW, CM, 1]);
  const src = f32(backend, filter);
  const dst = f32(backend, flipped);
  for (let kh = 0; kh < g.kH; kh++) {
    for (let kw = 0; kw < g.kW; kw++) {
      dst.set(src.subarray(((g.kH - 1 - kh) * g.kW + (g.kW - 1 - kw)) * CM, ((g.kH - 1 - kh) * g.kW + (g.kW - kw)) * CM), (kh * g.kW + kw) * CM);
    }
  }
  const spread = g.strideH > 1 || g.strideW > 1 ? spreadByStride(backend, dy, g, spreadH, spreadW) : dy;
  const perChannel = xnnDepthwiseConv2d(backend, spread, flipped, {
    filterHeight: g.kH, filterWidth: g.kW, padTop, padLeft, padBottom, padRight,
    strideHeight: 1, strideWidth: 1, dilationHeight: g.dilationH, dilationWidth: g.dilationW,
  });
  disposeAll(backend, spread === dy ? [flipped] : [flipped, spread]);
  if (M === 1) return perChannel;
  const dx = allocF32(backend, [g.batch, g.inH, g.inW, g.inC]);
  sumGroups(f32(backend, perChannel), f32(backend, dx), M);
  disposeAll(backend, [perChannel]);
  return dx;
}

/** [n,OH,OW,c] -> [n,(OH-1)*sh+1,(OW-1)*sw+1,c] with zeros between the original rows/columns. */
function spreadByStride(backend: WasmBackend, dy: TensorInfo, g: ConvGeometry, spreadH: number, spreadW: number): TensorInfo {
  const c = g.outC;
  const out = allocF32(backend, [g.batch, spreadH, spreadW, c]);
  const src = f32(backend, dy);
  const dst = f32(backend, out);
  dst.fill(0);
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      const srcRow = (b * g.outH + oh) * g.outW * c;
      const dstRow = (b * spreadH + oh * g.strideH) * spreadW * c;
      for (let ow = 0; ow < g.outW; ow++) {
        dst.set(src.subarray(srcRow + ow * c, srcRow + (ow + 1) * c), dstRow + ow * g.strideW * c);
      }
    }
  }
  return out;
}

/** out[j] = sum_{m < M} src[j*M + m]. */
function sumGroups(src: Float32Array, out: Float32Array, M: number): void {
  for (let j = 0, s = 0; j < out.length; j++) {
    let acc = 0;
    for (let m = 0; m < M; m++) acc += src[s++]!;
    out[j] = acc;
  }
}

/**
 * dW[kh,kw,c,m] = sum_{b,oh,ow} x[b, oh*s+kh*d-pt, ow*s+kw*d-pl, c] * dy[b,oh,ow,c*M+m].
 * Output pixel outermost: each dy row is read once and the KH*KW accumulator
 * rows (float64, a few KB) stay in L1.
 */
export function depthwiseBackpropFilterWasm(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const dw = allocF32(backend, [g.kH, g.kW, g.inC, g.outC / g.inC]);
  const xs = f32(backend, x);
  const dys = f32(backend, dy);
  const out = f32(backend, dw);
  const C = g.inC;
  const CM = g.outC;
  const M = CM / C;
  const acc = new Float64Array(g.kH * g.kW * CM);
  let dyBase = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++, dyBase += CM) {
        for (let kh = 0; kh < g.kH; kh++) {
          const h = oh * g.strideH + kh * g.dilationH - g.padTop;
          if (h < 0 || h >= g.inH) continue;
          for (let kw = 0; kw < g.kW; kw++) {
            const w = ow * g.strideW + kw * g.dilationW - g.padLeft;
            if (w < 0 || w >= g.inW) continue;
            const xBase = ((b * g.inH + h) * g.inW + w) * C;
            const accBase = (kh * g.kW + kw) * CM;
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
