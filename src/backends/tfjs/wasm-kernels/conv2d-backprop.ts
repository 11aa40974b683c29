// Conv2D gradients on the wasm backend, both expressed as forward convolutions
// so that XNNPACK (the fast path of the wasm backend) does the arithmetic.
//
// Notation (NHWC, filter HWIO): x [n,H,W,ci], W [KH,KW,ci,co], dy [n,OH,OW,co],
// stride s, dilation d, padding top/left pt/pl. The forward conv is
//   y[b,oh,ow,o] = sum_{kh,kw,i} x[b, oh*s + kh*d - pt, ow*s + kw*d - pl, i] * W[kh,kw,i,o].
import type { TensorInfo, NamedAttrMap } from "@tensorflow/tfjs";
import { backend_util } from "@tensorflow/tfjs";
import { type WasmBackend, allocF32, disposeAll, f32, transpose, xnnConv2d } from "./wasm-internals.js";

export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
}

function dilationsOf(attrs: NamedAttrMap): [number, number] {
  const d = attrs["dilations"] as number | [number, number] | undefined;
  if (d === undefined || d === null) return [1, 1];
  return typeof d === "number" ? [d, d] : [d[0], d[1]];
}

/** Geometry of the forward conv whose gradient is being taken (tfjs padding rules). */
export function convGeometry(xShape: number[], filterShape: number[], attrs: NamedAttrMap, depthwise = false): ConvGeometry {
  const dataFormat = attrs["dataFormat"] as string | undefined;
  if (dataFormat !== undefined && dataFormat !== "NHWC" && dataFormat !== "channelsLast") {
    throw new Error(`mex wasm conv gradient: only NHWC is supported, got dataFormat '${dataFormat}'`);
  }
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs["strides"] as [number, number] | number,
    dilationsOf(attrs),
    attrs["pad"] as "same" | "valid" | number,
    attrs["dimRoundingMode"] as "floor" | "round" | "ceil" | undefined,
    depthwise,
  );
  return {
    batch: info.batchSize, inH: info.inHeight, inW: info.inWidth, inC: info.inChannels,
    outH: info.outHeight, outW: info.outWidth, outC: info.outChannels,
    kH: info.filterHeight, kW: info.filterWidth,
    strideH: info.strideHeight, strideW: info.strideWidth,
    dilationH: info.dilationHeight, dilationW: info.dilationWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
}

/**
 * dW[kh,kw,i,o] = sum_{b,oh,ow} x[b, kh*d + oh*s - pt, ...,i] * dy[b,oh,ow,o].
 * Read as a forward conv with batch and channel roles swapped: input
 * X' = x^T [ci,H,W,n] ("batch" ci, "channels" n), filter F' = dy^T [OH,OW,n,co],
 * stride' = d, dilation' = s, same top/left padding; its output O[i,kh,kw,o]
 * (cropped to KH x KW) is dW transposed.
 */
export function conv2dBackpropFilterWasm(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const xT = transpose(backend, x, [3, 1, 2, 0]);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  // Bottom/right padding so the output covers KH x KW (extra rows are cropped).
  const needH = (g.kH - 1) * g.dilationH + (g.outH - 1) * g.strideH + 1;
  const needW = (g.kW - 1) * g.dilationW + (g.outW - 1) * g.strideW + 1;
  const o = xnnConv2d(backend, xT, dyT, {
    filterHeight: g.outH, filterWidth: g.outW,
    padTop: g.padTop, padLeft: g.padLeft,
    padBottom: Math.max(0, needH - g.inH - g.padTop),
    padRight: Math.max(0, needW - g.inW - g.padLeft),
    strideHeight: g.dilationH, strideWidth: g.dilationW,
    dilationHeight: g.strideH, dilationWidth: g.strideW,
  });
  disposeAll(backend, [xT, dyT]);
  const dw = allocF32(backend, [g.kH, g.kW, g.inC, g.outC]);
  cropAndTransposeFilterGrad(f32(backend, o), o.shape as number[], f32(backend, dw), g);
  disposeAll(backend, [o]);
  return dw;
}

/** out[kh,kw,i,o] = src[i,kh,kw,o] for kh < KH, kw < KW (src may be larger spatially). */
function cropAndTransposeFilterGrad(src: Float32Array, srcShape: number[], out: Float32Array, g: ConvGeometry): void {
  const [, sh, sw, co] = srcShape as [number, number, number, number];
  let dst = 0;
  for (let kh = 0; kh < g.kH; kh++) {
    for (let kw = 0; kw < g.kW; kw++) {
      for (let i = 0; i < g.inC; i++) {
        const base = ((i * sh + kh) * sw + kw) * co;
        for (let o = 0; o < co; o++) out[dst++] = src[base + o]!;
      }
    }
  }
}

/**
 * dx[b,h,w,i] = sum dy[b,oh,ow,o] * W[kh,kw,i,o] over h = oh*s + kh*d - pt.
 * With dy spread out by the stride (zeros between rows/cols, "dyS") this is a
 * stride-1 forward conv of dyS with the flipped, in/out-swapped filter
 * Wf[kh',kw',o,i] = W[KH-1-kh', KW-1-kw', i, o], dilation d and top padding
 * (KH-1)*d - pt. Returns null when the padding would be negative (exotic
 * explicit paddings); callers then fall back to the stock kernel.
 */
export function conv2dBackpropInputWasm(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo | null {
  const effH = (g.kH - 1) * g.dilationH + 1;
  const effW = (g.kW - 1) * g.dilationW + 1;
  const spreadH = (g.outH - 1) * g.strideH + 1;
  const spreadW = (g.outW - 1) * g.strideW + 1;
  const padTop = effH - 1 - g.padTop;
  const padLeft = effW - 1 - g.padLeft;
  const padBottom = g.inH - 1 + effH - spreadH - padTop;
  const padRight = g.inW - 1 + effW - spreadW - padLeft;
  if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) return null;

  const wf = allocF32(backend, [g.kH, g.kW, g.outC, g.inC]);
  flipAndSwapFilter(f32(backend, filter), f32(backend, wf), g.kH, g.kW, g.inC, g.outC);
  const spread = g.strideH > 1 || g.strideW > 1 ? spreadByStride(backend, dy, g, spreadH, spreadW) : dy;
  const dx = xnnConv2d(backend, spread, wf, {
    filterHeight: g.kH, filterWidth: g.kW,
    padTop, padLeft, padBottom, padRight,
    strideHeight: 1, strideWidth: 1,
    dilationHeight: g.dilationH, dilationWidth: g.dilationW,
  });
  disposeAll(backend, spread === dy ? [wf] : [wf, spread]);
  return dx;
}

function flipAndSwapFilter(w: Float32Array, out: Float32Array, kH: number, kW: number, ci: number, co: number): void {
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const srcBase = ((kH - 1 - kh) * kW + (kW - 1 - kw)) * ci * co;
      const dstBase = (kh * kW + kw) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) out[dstBase + o * ci + i] = w[srcBase + i * co + o]!;
      }
    }
  }
}

/** [n,OH,OW,c] -> [n,(OH-1)*sh+1,(OW-1)*sw+1,c] with zeros between the original rows/columns. */
function spreadByStride(backend: WasmBackend, dy: TensorInfo, g: ConvGeometry, spreadH: number, spreadW: number): TensorInfo {
  const out = allocF32(backend, [g.batch, spreadH, spreadW, g.outC]);
  const src = f32(backend, dy);
  const dst = f32(backend, out);
  dst.fill(0);
  const c = g.outC;
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
