// Gradients of dilated Conv2D and DepthwiseConv2dNative.
//
// tfjs-core 4.22's gradients for both ops assert dilation == 1, so a model with a
// dilated convolution cannot train on any backend (and the cpu backend's depthwise
// backprop kernels ignore dilations). These gradient configs replace tfjs-core's:
// dilation 1 behaves exactly as before; dilation > 1 (tfjs then requires stride 1)
// uses our dilation-aware kernels on wasm, and on other backends a formulation
// built from forward convolutions, slices and reductions, which every backend has.
import * as tf from "@tensorflow/tfjs";
import type { GradConfig, NamedAttrMap, Tensor } from "@tensorflow/tfjs";

type Pair = [number, number];

function pair(v: unknown, fallback: number): Pair {
  if (v === undefined || v === null) return [fallback, fallback];
  return typeof v === "number" ? [v, v] : [(v as number[])[0]!, (v as number[])[1]!];
}

function isDilated(attrs: NamedAttrMap): boolean {
  const [dh, dw] = pair(attrs["dilations"], 1);
  return dh > 1 || dw > 1;
}

interface Geometry {
  info: tf.backend_util.Conv2DInfo;
  dilations: Pair;
}

function geometry(x: Tensor, filter: Tensor, attrs: NamedAttrMap, depthwise: boolean): Geometry {
  const dilations = pair(attrs["dilations"], 1);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs["strides"] as number | Pair,
    dilations,
    attrs["pad"] as "same" | "valid" | number,
    attrs["dimRoundingMode"] as "floor" | "round" | "ceil" | undefined,
    depthwise,
  );
  return { info, dilations };
}

/**
 * x zero-padded so that, for stride 1, window offset (kh, kw) of output pixel
 * (oh, ow) reads xp[oh + kh*d, ow + kw*d]: top/left = conv padding, bottom/right
 * large enough for the last window.
 */
function padForWindows(x: Tensor, g: Geometry): Tensor {
  const { info } = g;
  const needH = info.outHeight - 1 + info.effectiveFilterHeight;
  const needW = info.outWidth - 1 + info.effectiveFilterWidth;
  const bottom = Math.max(0, needH - info.inHeight - info.padInfo.top);
  const right = Math.max(0, needW - info.inWidth - info.padInfo.left);
  return tf.pad(x, [[0, 0], [info.padInfo.top, bottom], [info.padInfo.left, right], [0, 0]]);
}

/** Stride-1 dx as a forward conv of dy with the flipped filter (in/out swapped for Conv2D). */
function inputGradPadding(g: Geometry): [[number, number], [number, number], [number, number], [number, number]] {
  const { info } = g;
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const bottom = info.inHeight - 1 + info.effectiveFilterHeight - info.outHeight - top;
  const right = info.inWidth - 1 + info.effectiveFilterWidth - info.outWidth - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) {
    throw new Error(`mex dilated conv gradient: unsupported padding (${JSON.stringify(info.padInfo)})`);
  }
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

function conv2dDilatedGrads(x: Tensor, filter: Tensor, dy: Tensor, attrs: NamedAttrMap): { x: () => Tensor; filter: () => Tensor } {
  const g = geometry(x, filter, attrs, false);
  if (tf.getBackend() === "wasm") {
    const base = { strides: attrs["strides"], pad: attrs["pad"], dataFormat: "NHWC", dimRoundingMode: attrs["dimRoundingMode"], dilations: g.dilations } as unknown as NamedAttrMap;
    return {
      x: () => tf.engine().runKernel("Conv2DBackpropInput", { dy, filter }, { ...base, inputShape: x.shape }) as Tensor,
      filter: () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { ...base, filterShape: filter.shape }) as Tensor,
    };
  }
  return {
    x: () => {
      const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
      return tf.conv2d(dy as tf.Tensor4D, flipped, 1, inputGradPadding(g), "NHWC", g.dilations);
    },
    filter: () => {
      // dW[kh,kw] = sum over pixels of xp[shifted by (kh,kw)*d]^T dy: one matmul per filter tap.
      const { info } = g;
      const xp = padForWindows(x, g);
      const dy2 = tf.reshape(dy, [-1, info.outChannels]);
      const taps: Tensor[] = [];
      for (let kh = 0; kh < info.filterHeight; kh++) {
        for (let kw = 0; kw < info.filterWidth; kw++) {
          const win = tf.slice(xp, [0, kh * g.dilations[0], kw * g.dilations[1], 0], [-1, info.outHeight, info.outWidth, -1]);
          taps.push(tf.matMul(tf.reshape(win, [-1, info.inChannels]), dy2, true, false));
        }
      }
      return tf.reshape(tf.stack(taps), filter.shape);
    },
  };
}

function depthwiseDilatedGrads(x: Tensor, filter: Tensor, dy: Tensor, attrs: NamedAttrMap): { x: () => Tensor; filter: () => Tensor } {
  const g = geometry(x, filter, attrs, true);
  const { info } = g;
  const [kh, kw, c, m] = filter.shape as [number, number, number, number];
  if (tf.getBackend() === "wasm") {
    const base = { strides: attrs["strides"], pad: attrs["pad"], dimRoundingMode: attrs["dimRoundingMode"], dilations: g.dilations } as unknown as NamedAttrMap;
    return {
      x: () => tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", { dy, filter }, { ...base, inputShape: x.shape }) as Tensor,
      filter: () => tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", { x, dy }, { ...base, filterShape: filter.shape }) as Tensor,
    };
  }
  return {
    x: () => {
      // Each output channel c*M+m convolved back with its flipped tap, then summed over m.
      const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as tf.Tensor4D;
      const perChannel = tf.depthwiseConv2d(dy as tf.Tensor4D, flipped, 1, inputGradPadding(g), "NHWC", g.dilations);
      return tf.sum(tf.reshape(perChannel, [...x.shape.slice(0, 3), c, m]), 4);
    },
    filter: () => {
      const xp = padForWindows(x, g);
      const dy5 = tf.reshape(dy, [-1, info.outHeight, info.outWidth, c, m]);
      const taps: Tensor[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const win = tf.slice(xp, [0, i * g.dilations[0], j * g.dilations[1], 0], [-1, info.outHeight, info.outWidth, -1]);
          taps.push(tf.sum(tf.mul(tf.expandDims(win, 4), dy5), [0, 1, 2]));
        }
      }
      return tf.reshape(tf.stack(taps), filter.shape);
    },
  };
}

/** tfjs-core's gradient configs, kept for the undilated case. */
function stockGrad(kernelName: string): GradConfig {
  const g = tf.getGradient(kernelName);
  if (g === undefined) throw new Error(`mex: tfjs-core has no gradient for ${kernelName}`);
  return g;
}

const MEX_MARK = Symbol.for("mex.dilatedConvGradient");

/** Replaces the Conv2D and DepthwiseConv2dNative gradients with dilation-aware ones. Idempotent. */
export function registerDilatedConvGradients(): void {
  for (const [kernelName, dilated] of [
    ["Conv2D", conv2dDilatedGrads],
    ["DepthwiseConv2dNative", depthwiseDilatedGrads],
  ] as const) {
    const current = stockGrad(kernelName);
    if ((current as unknown as Record<symbol, boolean>)[MEX_MARK]) continue;
    const config: GradConfig = {
      kernelName,
      inputsToSave: ["x", "filter"],
      gradFunc: (dy, saved, attrs) => {
        if (!isDilated(attrs)) return current.gradFunc(dy, saved, attrs);
        if (attrs["dataFormat"] === "NCHW") throw new Error(`mex: gradient of dilated ${kernelName} supports NHWC only`);
        const [x, filter] = saved as [Tensor, Tensor];
        return dilated(x, filter, dy as Tensor, attrs);
      },
    };
    (config as unknown as Record<symbol, boolean>)[MEX_MARK] = true;
    tf.registerGradient(config);
  }
}
