// Leaner gradient formulas for ops that dominate a conv net's backward pass
// outside the convolutions. tfjs-core's versions materialise full-size
// intermediates (a tiled copy of 1/sqrt(var), a tensor of ones to broadcast dy)
// and spend ~14 full passes over the activations per batch-norm layer; these
// compute the same values with broadcasting and shared reductions in ~5.
// Gradient configs are global (all backends); the maths is unchanged.
import * as tf from "@tensorflow/tfjs";
import type { GradConfig, NamedAttrMap, Tensor } from "@tensorflow/tfjs";

/** sum of t over the axes along which `small` is broadcast to t's shape, reshaped to small's shape. */
function sumToShape(t: Tensor, small: Tensor): Tensor {
  const axes = tf.backend_util.getReductionAxes(small.shape, t.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, small.shape);
}


/**
 * y = (x - mean) * g + offset with g = scale / sqrt(variance + eps):
 *   dx = dy * g, dmean = -g * S1, dvariance = -0.5 * scale * (variance+eps)^-1.5 * S2,
 *   dscale = S2 / sqrt(variance + eps), doffset = S1,
 * where S1 = sum(dy) and S2 = sum(dy * (x - mean)) over the broadcast axes.
 */
const fusedBatchNormGrad: GradConfig = {
  kernelName: "FusedBatchNorm",
  inputsToSave: ["x", "mean", "variance", "scale"],
  gradFunc: (dy, saved, attrs: NamedAttrMap) => {
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const dyT = dy as Tensor;
    const eps = (attrs["varianceEpsilon"] as number | undefined) ?? 0.001;
    // Shared terms are computed here, not inside the thunks: the engine runs each
    // input's thunk in its own tidy, which would dispose a memoised tensor. The
    // enclosing gradient tidy disposes these.
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const gain = scale === undefined ? invStd : tf.mul(invStd, scale);
    const sumDy = sumToShape(dyT, mean);
    const sumDyXmu = sumToShape(tf.mul(dyT, tf.sub(x, mean)), mean);
    const grads: Record<string, () => Tensor> = {
      x: () => tf.mul(dyT, gain),
      mean: () => tf.reshape(tf.mul(tf.neg(gain), sumDy), mean.shape),
      variance: () => {
        const cube = tf.mul(tf.mul(invStd, invStd), invStd);
        const k = scale === undefined ? tf.mul(cube, -0.5) : tf.mul(tf.mul(cube, -0.5), scale);
        return tf.reshape(tf.mul(k, sumDyXmu), variance.shape);
      },
      offset: () => tf.clone(sumDy),
    };
    if (scale !== undefined) grads["scale"] = () => tf.reshape(tf.mul(invStd, sumDyXmu), scale.shape);
    return grads;
  },
};

function reductionGrad(kernelName: "Mean" | "Sum"): GradConfig {
  return {
    kernelName,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs: NamedAttrMap) => {
      const [x] = saved as [Tensor];
      const axes = tf.util.parseAxisParam(attrs["axis"] as number | number[], x.shape);
      const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
      return {
        x: () => {
          if (x.size === 0) return tf.zeros(x.shape);
          const g = tf.reshape(dy as Tensor, keptShape);
          return tf.broadcastTo(kernelName === "Mean" ? tf.div(g, count) : g, x.shape);
        },
      };
    },
  };
}

const MEX_MARK = Symbol.for("mex.leanGradient");

/** Registers the lean gradients (idempotent). */
export function registerLeanGradients(): void {
  for (const config of [fusedBatchNormGrad, reductionGrad("Mean"), reductionGrad("Sum")]) {
    const current = tf.getGradient(config.kernelName) as unknown as Record<symbol, boolean> | undefined;
    if (current?.[MEX_MARK]) continue;
    (config as unknown as Record<symbol, boolean>)[MEX_MARK] = true;
    tf.registerGradient(config);
  }
}
