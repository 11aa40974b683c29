// Conv2D gradients on the wasm backend, arranged so that XNNPACK (the fast path
// of the wasm backend) does the arithmetic: the filter gradient as one plain
// matmul over an im2col buffer, the input gradient as a forward convolution
// (stride 1) or a matmul followed by col2im (strided).
//
// Notation (NHWC, filter HWIO): x [n,H,W,ci], W [KH,KW,ci,co], dy [n,OH,OW,co],
// stride s, dilation d, padding top/left pt/pl. The forward conv is
//   y[b,oh,ow,o] = sum_{kh,kw,i} x[b, oh*s + kh*d - pt, ow*s + kw*d - pl, i] * W[kh,kw,i,o].
import type { TensorInfo, NamedAttrMap } from "@tensorflow/tfjs";
import { backend_util } from "@tensorflow/tfjs";
import { heapPointer, simdKernels } from "./simd-kernels.js";
import { type WasmBackend, allocF32, callWasmKernel, disposeAll, f32, heapF32, heapIndex, transpose, xnnConv2d } from "./wasm-internals.js";

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

/** Tunables; mutable so tests can force the chunked paths on small shapes. */
export const convTuning = {
  /** Upper bound on im2col buffer elements (16 MB of float32) before the batch is processed in chunks. */
  im2colMaxElements: 4 * 1024 * 1024,
  /** Take dW^T = dy^T . im2col when im2col is the smaller operand (see conv2dBackpropFilterWasm). */
  packSmallerOperand: true,
  /**
   * Pack im2col (not dy) when K, rounded up to a multiple of 4, is at most this
   * fraction of co. Measured with a fresh dy per call, as in training (XNNPACK
   * repacks its right operand for every new tensor): 3x3x1 -> 32 and 3x3x3 -> 64
   * pack im2col (6.5 vs 8.9 ms, 26 vs 57 ms at batch 64); 3x3x1 -> 16 and
   * 3x3x3 -> 32 pack dy (3.6 vs 4.0, 14.5 vs 16.9 ms).
   */
  packIm2colMaxRatio: 0.5,
  /** When packing im2col, build it as the SIMD transpose of im2colT (else the JS gather). */
  packViaTranspose: true,
  /** Build im2col by shifted plane copies when stride is 1 and the output plane equals the input's. */
  shiftedPlaneIm2col: true,
};

/**
 * dW[kh,kw,i,o] = sum_{b,oh,ow} x[b, oh*s + kh*d - pt, ...,i] * dy[b,oh,ow,o]
 *              = (im2colT(x) . dy2d)[(kh,kw,i), o]
 * with im2colT(x)[(kh,kw,i), (b,oh,ow)] built here and dy2d = dy as [b*OH*OW, co]:
 * one plain (non-transposed) matmul, which XNNPACK runs at full speed (the wasm
 * BatchMatMul with transposeA is ~10x slower, and so was a forward conv with batch
 * and channels swapped). XNNPACK packs the right-hand operand on every call and
 * both operands span all pixels, so when KH*KW*ci is well below co (first layers,
 * ci = 1 or 3) the product is taken the other way round, dW^T = dy2d^T . im2col(x),
 * packing the smaller im2col. Large batches are processed in chunks to bound memory.
 */
export function conv2dBackpropFilterWasm(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const K = g.kH * g.kW * g.inC;
  const pixels = g.outH * g.outW;
  const chunk = Math.max(1, Math.min(g.batch, Math.floor(convTuning.im2colMaxElements / (K * pixels))));
  const packIm2col = convTuning.packSmallerOperand && Math.ceil(K / 4) * 4 <= convTuning.packIm2colMaxRatio * g.outC;
  // Building im2col row-major as the transpose of the fast channel-major im2colT
  // needs the SIMD transpose (pixel count a multiple of 4; K padded to one).
  const viaTranspose = packIm2col && convTuning.packViaTranspose && pixels % 4 === 0 && simdKernels(backend) !== null;
  const pack: PackMode = !packIm2col ? "dy" : viaTranspose ? "im2colViaTranspose" : "im2col";
  const source = pack === "im2col" ? x : channelMajor(backend, x);
  const release = () => {
    if (source !== x) disposeAll(backend, [source]);
  };
  if (chunk === g.batch) {
    const dw = filterGradChunk(backend, source, dy, g, 0, g.batch, pack);
    release();
    return { ...dw, shape: [g.kH, g.kW, g.inC, g.outC] };
  }
  const acc = new Float64Array(K * g.outC);
  for (let b0 = 0; b0 < g.batch; b0 += chunk) {
    const part = filterGradChunk(backend, source, dy, g, b0, Math.min(g.batch, b0 + chunk), pack);
    const p = f32(backend, part);
    for (let i = 0; i < acc.length; i++) acc[i] += p[i]!;
    disposeAll(backend, [part]);
  }
  release();
  const dw = allocF32(backend, [g.kH, g.kW, g.inC, g.outC]);
  f32(backend, dw).set(acc);
  return dw;
}

/**
 * x [n,H,W,C] as [C,n,H,W]: the wasm SIMD 4x4-block transpose when n*H*W and C
 * are multiples of 4 (~4x faster than the stock Transpose kernel), else that kernel.
 */
function channelMajor(backend: WasmBackend, x: TensorInfo): TensorInfo {
  const [n, H, W, C] = x.shape as [number, number, number, number];
  const out = transposeRows(backend, { ...x, shape: [n * H * W, C] });
  return { ...out, shape: [C, n, H, W] };
}

/** m [R, C] as [C, R]: the wasm SIMD transpose when R and C are multiples of 4, else the stock kernel. */
function transposeRows(backend: WasmBackend, m: TensorInfo): TensorInfo {
  const [R, C] = m.shape as [number, number];
  const simd = R % 4 === 0 && C % 4 === 0 && R > 0 ? simdKernels(backend) : null;
  if (simd === null) return transpose(backend, m, [1, 0]);
  const out = allocF32(backend, [C, R]);
  simd.transpose2d(heapPointer(backend, m), heapPointer(backend, out), R, C);
  return out;
}

/**
 * Which matmul operand XNNPACK packs: dy (dW = im2colT . dy), or im2col
 * (dW^T = dy^T . im2col) built by the JS gather from x or as the SIMD transpose
 * of im2colT padded to a multiple of 4 rows (zero taps, sliced off afterwards).
 */
type PackMode = "dy" | "im2col" | "im2colViaTranspose";

/** The [K, co] filter-gradient contribution of batch entries [b0, b1). `source` is x (NHWC) for pack 'im2col', else xT (channel-major). */
function filterGradChunk(
  backend: WasmBackend, source: TensorInfo, dy: TensorInfo, g: ConvGeometry, b0: number, b1: number, pack: PackMode,
): TensorInfo {
  const K = g.kH * g.kW * g.inC;
  const rows = (b1 - b0) * g.outH * g.outW;
  let dyPart: TensorInfo;
  if (b0 === 0 && b1 === g.batch) {
    dyPart = { ...dy, shape: [rows, g.outC] };
  } else {
    dyPart = allocF32(backend, [rows, g.outC]);
    f32(backend, dyPart).set(f32(backend, dy).subarray(b0 * g.outH * g.outW * g.outC, b1 * g.outH * g.outW * g.outC));
  }
  const temps = dyPart.dataId === dy.dataId ? [] : [dyPart];
  let result: TensorInfo;
  if (pack === "dy") {
    const cols = im2colTransposed(backend, source, g, b0, b1);
    result = callWasmKernel("BatchMatMul", backend, { a: cols, b: dyPart }, { transposeA: false, transposeB: false });
    temps.push(cols);
  } else {
    let cols: TensorInfo;
    let Kp = K;
    if (pack === "im2colViaTranspose") {
      Kp = Math.ceil(K / 4) * 4;
      const colsT = im2colTransposed(backend, source, g, b0, b1, Kp);
      cols = transposeRows(backend, colsT);
      temps.push(colsT);
    } else {
      cols = im2col(backend, source, g, b0, b1);
    }
    const dyT = transposeRows(backend, dyPart);
    const dwT = callWasmKernel("BatchMatMul", backend, { a: dyT, b: cols }, { transposeA: false, transposeB: false });
    result = allocF32(backend, [K, g.outC]);
    // result[k, o] = dwT[o, k] for the first K of Kp columns.
    const src = f32(backend, dwT), out = f32(backend, result);
    for (let o = 0; o < g.outC; o++) {
      for (let k = 0; k < K; k++) out[k * g.outC + o] = src[o * Kp + k]!;
    }
    temps.push(cols, dyT, dwT);
  }
  disposeAll(backend, temps);
  return { ...result, shape: [K, g.outC] };
}

/** cols[(b,oh,ow), (kh,kw,i)] = x[b, oh*s + kh*d - pt, ow*s + kw*d - pl, i] (0 in the padding), for b in [b0, b1). */
function im2col(backend: WasmBackend, x: TensorInfo, g: ConvGeometry, b0: number, b1: number): TensorInfo {
  const C = g.inC;
  const cols = allocF32(backend, [(b1 - b0) * g.outH * g.outW, g.kH * g.kW * C]);
  const xs = f32(backend, x);
  const out = f32(backend, cols);
  let dst = 0;
  for (let b = b0; b < b1; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        for (let kh = 0; kh < g.kH; kh++) {
          const h = oh * g.strideH + kh * g.dilationH - g.padTop;
          const rowInside = h >= 0 && h < g.inH;
          for (let kw = 0; kw < g.kW; kw++, dst += C) {
            const w = ow * g.strideW + kw * g.dilationW - g.padLeft;
            if (!rowInside || w < 0 || w >= g.inW) {
              for (let i = 0; i < C; i++) out[dst + i] = 0;
              continue;
            }
            const src = ((b * g.inH + h) * g.inW + w) * C;
            for (let i = 0; i < C; i++) out[dst + i] = xs[src + i]!;
          }
        }
      }
    }
  }
  return cols;
}

/**
 * cols[(kh,kw,i), (b,oh,ow)] = x[b, oh*s + kh*d - pt, ow*s + kw*d - pl, i] (0 in the
 * padding), for b in [b0, b1). Reads from xT = x as [ci, n, H, W] (one wasm
 * transpose) so every output row is a run of contiguous reads and writes.
 */
function im2colTransposed(backend: WasmBackend, xT: TensorInfo, g: ConvGeometry, b0: number, b1: number, rows?: number): TensorInfo {
  const P = (b1 - b0) * g.outH * g.outW;
  const C = g.inC;
  const { inH: H, inW: W, outH: OH, outW: OW, strideW: sw } = g;
  const K = g.kH * g.kW * C;
  const cols = allocF32(backend, [rows ?? K, P]);
  // Padding rows (rows > K) are zero.
  if (rows !== undefined && rows > K) f32(backend, cols).fill(0, K * P);
  if (convTuning.shiftedPlaneIm2col && g.strideH === 1 && sw === 1 && OH === H && OW === W) {
    im2colTransposedShifted(backend, xT, cols, g, b0, b1);
    return cols;
  }
  const xs = f32(backend, xT);
  const out = f32(backend, cols);
  let dst = 0;
  for (let kh = 0; kh < g.kH; kh++) {
    for (let kw = 0; kw < g.kW; kw++) {
      const wOffset = kw * g.dilationW - g.padLeft;
      // Output columns whose input column w = ow*sw + wOffset lies inside [0, W).
      const owLo = Math.min(OW, Math.max(0, Math.ceil(-wOffset / sw)));
      const owHi = Math.max(owLo, Math.min(OW, Math.floor((W - 1 - wOffset) / sw) + 1));
      for (let i = 0; i < C; i++) {
        for (let b = b0; b < b1; b++) {
          const plane = (i * g.batch + b) * H;
          for (let oh = 0; oh < OH; oh++, dst += OW) {
            const h = oh * g.strideH + kh * g.dilationH - g.padTop;
            if (h < 0 || h >= H) {
              out.fill(0, dst, dst + OW);
              continue;
            }
            for (let ow = 0; ow < owLo; ow++) out[dst + ow] = 0;
            let src = (plane + h) * W + owLo * sw + wOffset;
            for (let ow = owLo; ow < owHi; ow++, src += sw) out[dst + ow] = xs[src]!;
            for (let ow = owHi; ow < OW; ow++) out[dst + ow] = 0;
          }
        }
      }
    }
  }
  return cols;
}

/**
 * im2colTransposed when stride is 1 and the output plane has the input's size
 * (same padding): each block of cols for one tap (kh,kw) and channel i is the
 * run of xT planes b0..b1-1 shifted by (kh*d - pt) rows and (kw*d - pl)
 * columns. So it is one native memmove (copyWithin over the wasm heap) per
 * (tap, channel), then zeros written where the shifted window leaves the image:
 * whole rows at the top/bottom of each plane, a few columns at the ends of each
 * row. Several times faster than the per-row gather for small planes (7x7, 14x14).
 */
function im2colTransposedShifted(backend: WasmBackend, xT: TensorInfo, cols: TensorInfo, g: ConvGeometry, b0: number, b1: number): void {
  const { inH: H, inW: W, inC: C } = g;
  const plane = H * W;
  const nb = b1 - b0;
  const heap = heapF32(backend);
  const src0 = heapIndex(backend, xT);
  const dst0 = heapIndex(backend, cols);
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  let dstBlock = dst0;
  for (let kh = 0; kh < g.kH; kh++) {
    const hOff = kh * g.dilationH - g.padTop;
    const rowLo = clamp(-hOff, 0, H), rowHi = clamp(H - hOff, rowLo, H);
    for (let kw = 0; kw < g.kW; kw++) {
      const wOff = kw * g.dilationW - g.padLeft;
      const colLo = clamp(-wOff, 0, W), colHi = clamp(W - wOff, colLo, W);
      for (let i = 0; i < C; i++, dstBlock += nb * plane) {
        if (rowHi > rowLo && colHi > colLo) {
          const first = rowLo * W + colLo;
          const end = (nb - 1) * plane + (rowHi - 1) * W + colHi;
          const src = src0 + (i * g.batch + b0) * plane + (rowLo + hOff) * W + colLo + wOff;
          heap.copyWithin(dstBlock + first, src, src + end - first);
        }
        for (let p = 0; p < nb; p++) {
          const base = dstBlock + p * plane;
          if (rowHi <= rowLo || colHi <= colLo) {
            heap.fill(0, base, base + plane);
            continue;
          }
          heap.fill(0, base, base + rowLo * W);
          heap.fill(0, base + rowHi * W, base + plane);
          for (let r = rowLo; r < rowHi; r++) {
            const row = base + r * W;
            for (let c = 0; c < colLo; c++) heap[row + c] = 0;
            for (let c = colHi; c < W; c++) heap[row + c] = 0;
          }
        }
      }
    }
  }
}

/**
 * dx[b,h,w,i] = sum dy[b,oh,ow,o] * W[kh,kw,i,o] over h = oh*s + kh*d - pt.
 * Stride 1: a forward conv (XNNPACK) of dy with the flipped, in/out-swapped
 * filter Wf[kh',kw',o,i] = W[KH-1-kh', KW-1-kw', i, o], dilation d and top
 * padding (KH-1)*d - pt. Strided convs (where that conv would run over a
 * zero-spread dy, s^2 times the work) and exotic paddings use col2im instead.
 */
export function conv2dBackpropInputWasm(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const effH = (g.kH - 1) * g.dilationH + 1;
  const effW = (g.kW - 1) * g.dilationW + 1;
  const padTop = effH - 1 - g.padTop;
  const padLeft = effW - 1 - g.padLeft;
  const padBottom = g.inH - 1 + effH - g.outH - padTop;
  const padRight = g.inW - 1 + effW - g.outW - padLeft;
  const strided = g.strideH > 1 || g.strideW > 1;
  if (strided || padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
    return conv2dBackpropInputCol2im(backend, dy, filter, g);
  }
  const wf = allocF32(backend, [g.kH, g.kW, g.outC, g.inC]);
  flipAndSwapFilter(f32(backend, filter), f32(backend, wf), g.kH, g.kW, g.inC, g.outC);
  const dx = xnnConv2d(backend, dy, wf, {
    filterHeight: g.kH, filterWidth: g.kW,
    padTop, padLeft, padBottom, padRight,
    strideHeight: 1, strideWidth: 1,
    dilationHeight: g.dilationH, dilationWidth: g.dilationW,
  });
  disposeAll(backend, [wf]);
  return dx;
}

/**
 * dcol = dy2d . W2d^T ([b*OH*OW, co] x [co, KH*KW*ci], one plain matmul), then
 * col2im scatters each column block back onto the input pixels it came from.
 */
function conv2dBackpropInputCol2im(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const K = g.kH * g.kW * g.inC;
  const pixels = g.outH * g.outW;
  const wT = allocF32(backend, [g.outC, K]);
  transposeMatrix(f32(backend, filter), f32(backend, wT), K, g.outC);
  const dx = allocF32(backend, [g.batch, g.inH, g.inW, g.inC]);
  f32(backend, dx).fill(0);
  const chunk = Math.max(1, Math.min(g.batch, Math.floor(convTuning.im2colMaxElements / (K * pixels))));
  for (let b0 = 0; b0 < g.batch; b0 += chunk) {
    const b1 = Math.min(g.batch, b0 + chunk);
    let dyPart: TensorInfo;
    if (b0 === 0 && b1 === g.batch) {
      dyPart = { ...dy, shape: [g.batch * pixels, g.outC] };
    } else {
      dyPart = allocF32(backend, [(b1 - b0) * pixels, g.outC]);
      f32(backend, dyPart).set(f32(backend, dy).subarray(b0 * pixels * g.outC, b1 * pixels * g.outC));
    }
    const cols = callWasmKernel("BatchMatMul", backend, { a: dyPart, b: wT }, { transposeA: false, transposeB: false });
    col2imAdd(f32(backend, cols), f32(backend, dx), g, b0, b1);
    disposeAll(backend, dyPart.dataId === dy.dataId ? [cols] : [cols, dyPart]);
  }
  disposeAll(backend, [wT]);
  return dx;
}

/** out[c, r] = src[r, c] for src [rows, cols]. */
function transposeMatrix(src: Float32Array, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c]!;
  }
}

/** dx[b, oh*s + kh*d - pt, ow*s + kw*d - pl, :] += cols[(b,oh,ow), (kh,kw), :] for b in [b0, b1). */
function col2imAdd(cols: Float32Array, dx: Float32Array, g: ConvGeometry, b0: number, b1: number): void {
  const C = g.inC;
  let src = 0;
  for (let b = b0; b < b1; b++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        for (let kh = 0; kh < g.kH; kh++) {
          const h = oh * g.strideH + kh * g.dilationH - g.padTop;
          const rowInside = h >= 0 && h < g.inH;
          for (let kw = 0; kw < g.kW; kw++, src += C) {
            const w = ow * g.strideW + kw * g.dilationW - g.padLeft;
            if (!rowInside || w < 0 || w >= g.inW) continue;
            const dst = ((b * g.inH + h) * g.inW + w) * C;
            for (let i = 0; i < C; i++) dx[dst + i] += cols[src + i]!;
          }
        }
      }
    }
  }
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
