/**
 * The multi-exit training objective of Phuong & Lampert (ICCV 2019), eq. 1-5, as mex defines it
 * (../shared/METHOD.md):
 *
 *   classification = (1/M) sum_m CE_m            CE_m = mean over *labeled* n of -log softmax(z_m[n])[y_n]
 *   distillation   = (1/N) sum_n (1/M) sum_m (1/|T(m)|) sum_{t in T(m)} l_tau(p_t, p_m)   (all N examples)
 *   l_tau(t, s)    = -tau^2 sum_k softmax(z_t/tau)_k log softmax(z_s/tau)_k
 *   total          = 2 * ((1 - C) * classification + C * distillation)
 *
 * With C = 0.5, `total` is exactly the paper's L. Unlabeled examples (label -1) enter only the
 * distillation term (the semi-supervised extension). The teacher's softened distribution is a
 * constant: gradients reach a teacher exit only through its own classification term.
 *
 * Everything is differentiable with tfjs autodiff, so the trainer calls this inside
 * `tf.variableGrads(() => ...)`; `lossAndGrads` below packages that.
 */
import * as tf from "@tensorflow/tfjs";

export interface MultiExitLossInput {
  /** One [batch, classes] logit tensor per exit, in exit order. */
  readonly logits: readonly tf.Tensor2D[];
  /** [batch] int32 class indices; -1 marks an unlabeled example. */
  readonly labels: tf.Tensor1D;
  /** teachers[m] = exit indices in T(m); an empty set means exit m is not distilled into. */
  readonly teachers: readonly (readonly number[])[];
  /** C in [0, 1]: the share of the distillation term. */
  readonly weight: number;
  /** tau > 0. */
  readonly temperature: number;
}

export interface MultiExitLoss {
  readonly total: tf.Scalar;
  readonly classification: tf.Scalar;
  readonly distillation: tf.Scalar;
}

/**
 * Checks the parts of a loss call that do not depend on tensor values. Returns a message, or null
 * when the call is well-formed. `multiExitLoss` throws with this message (a programming error in
 * the caller, since the checker already validated the spec).
 */
export function lossInputError(
  exits: number,
  teachers: readonly (readonly number[])[],
  weight: number,
  temperature: number,
): string | null {
  if (exits < 1) return "multiExitLoss: need at least one exit's logits";
  if (teachers.length !== exits) {
    return `multiExitLoss: ${exits} exits but ${teachers.length} teacher sets (need one per exit)`;
  }
  for (let m = 0; m < teachers.length; m++) {
    for (const t of teachers[m]!) {
      if (!Number.isInteger(t) || t < 0 || t >= exits) {
        return `multiExitLoss: teacher ${t} of exit ${m} is not an exit index in [0, ${exits - 1}]`;
      }
      if (t === m) return `multiExitLoss: exit ${m} cannot teach itself`;
    }
  }
  if (!(weight >= 0 && weight <= 1)) return `multiExitLoss: weight C must be in [0, 1], got ${weight}`;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    return `multiExitLoss: temperature must be a positive finite number, got ${temperature}`;
  }
  return null;
}

/**
 * Returns `tf.stopGradient(x)`: the same values, zero gradient. tfjs exports no stopGradient op,
 * so this is a custom-gradient identity.
 */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...inputs) => {
  const x = inputs[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

/**
 * The objective (see the file comment). The three returned scalars are new tensors owned by the
 * caller; every intermediate is disposed. Inside `tf.variableGrads` only the returned `total`
 * survives the engine's scope unless the caller `tf.keep`s the others (`lossAndGrads` does).
 */
export function multiExitLoss(input: MultiExitLossInput): MultiExitLoss {
  const { logits, labels, teachers, weight, temperature } = input;
  const error = lossInputError(logits.length, teachers, weight, temperature);
  if (error !== null) throw new Error(error);
  return tf.tidy(() => {
    const classification = classificationLoss(logits, labels);
    const distillation = distillationLoss(logits, teachers, temperature);
    const total = tf.mul(2, tf.add(tf.mul(1 - weight, classification), tf.mul(weight, distillation))) as tf.Scalar;
    return { total, classification, distillation };
  });
}

/** (1/M) sum_m mean over labeled n of -log softmax(z_m[n])[y_n]; 0 (not NaN) without labels. */
function classificationLoss(logits: readonly tf.Tensor2D[], labels: tf.Tensor1D): tf.Scalar {
  const classes = logits[0]!.shape[1];
  const labeled = tf.cast(tf.greaterEqual(labels, 0), "float32");
  // Unlabeled rows get class 0 and are then zeroed by the mask, so oneHot never sees -1.
  const safe = tf.cast(tf.mul(tf.cast(labels, "float32"), labeled), "int32") as tf.Tensor1D;
  const target = tf.mul(tf.oneHot(safe, classes), tf.expandDims(labeled, 1));
  // max(count, 1): an all-unlabeled batch has a zero numerator, so the mean is 0 instead of 0/0.
  const count = tf.maximum(tf.sum(labeled), 1);
  let sum: tf.Tensor = tf.scalar(0);
  // target * (-log p) rather than -(target * log p): masked terms are +0, so an empty batch reads 0, not -0.
  for (const z of logits) sum = tf.add(sum, tf.sum(tf.mul(target, tf.neg(tf.logSoftmax(z)))));
  return tf.div(sum, tf.mul(count, logits.length)) as tf.Scalar;
}

/**
 * (1/N) sum_n (1/M) sum_m tau^2 CE(mean_{t in T(m)} softmax(z_t/tau), softmax(z_m/tau)).
 * Averaging the teacher distributions first is exact (the cross-entropy is linear in the target)
 * and costs one product per student instead of one per teacher.
 */
function distillationLoss(
  logits: readonly tf.Tensor2D[],
  teachers: readonly (readonly number[])[],
  tau: number,
): tf.Scalar {
  const exits = logits.length;
  const batch = logits[0]!.shape[0];
  const soft = new Map<number, tf.Tensor>(); // teacher index -> constant softened probabilities
  const teacherProbs = (t: number): tf.Tensor => {
    let p = soft.get(t);
    if (p === undefined) {
      p = stopGradient(tf.softmax(tf.div(logits[t]!, tau)));
      soft.set(t, p);
    }
    return p;
  };
  let sum: tf.Tensor = tf.scalar(0);
  for (let m = 0; m < exits; m++) {
    const set = teachers[m]!;
    if (set.length === 0) continue;
    let target = teacherProbs(set[0]!);
    for (const t of set.slice(1)) target = tf.add(target, teacherProbs(t));
    if (set.length > 1) target = tf.div(target, set.length);
    sum = tf.add(sum, tf.sum(tf.mul(target, tf.neg(tf.logSoftmax(tf.div(logits[m]!, tau))))));
  }
  return tf.mul(sum, (tau * tau) / (batch * exits)) as tf.Scalar;
}

/** T(:): the sorted union of all teacher sets (the exits whose confidence drives Algorithm 1). */
export function teacherUnion(teachers: readonly (readonly number[])[]): number[] {
  return [...new Set(teachers.flat())].sort((a, b) => a - b);
}

/**
 * Algorithm 1's confidence as a scalar tensor:
 *   c = mean over the batch of max_k [ mean over t in T(:) of softmax(z_t / tau) ]_k.
 * An empty union gives 0 (nothing to sharpen, so the adaptive rule never fires).
 */
export function teacherConfidenceTensor(
  logits: readonly tf.Tensor2D[],
  union: readonly number[],
  tau: number,
): tf.Scalar {
  return tf.tidy(() => {
    if (union.length === 0) return tf.scalar(0);
    let mean: tf.Tensor = tf.softmax(tf.div(logits[union[0]!]!, tau));
    for (const t of union.slice(1)) mean = tf.add(mean, tf.softmax(tf.div(logits[t]!, tau)));
    if (union.length > 1) mean = tf.div(mean, union.length);
    return tf.mean(tf.max(mean, 1)) as tf.Scalar;
  });
}

/** `teacherConfidenceTensor` read back as a number (one small synchronous download). */
export function teacherConfidence(logits: readonly tf.Tensor2D[], union: readonly number[], tau: number): number {
  const c = teacherConfidenceTensor(logits, union, tau);
  const value = c.dataSync()[0]!;
  c.dispose();
  return value;
}

export interface LossSettings {
  readonly teachers: readonly (readonly number[])[];
  readonly weight: number;
  readonly temperature: number;
  /**
   * When given, the teacher confidence of Algorithm 1 over these exits (usually
   * `teacherUnion(teachers)`) is computed from the same forward pass, at the current tau.
   */
  readonly confidenceOver?: readonly number[];
  /**
   * Multiplies `total` before differentiation. The exit-wise baseline (a spec without `distill`) uses
   * 0.5 so that its objective is the paper's L_cls exactly, not 2 * L_cls (total's C = 0 value):
   * otherwise the baseline would train with an effectively doubled SGD learning rate.
   */
  readonly scale?: number;
}

export interface LossAndGrads extends MultiExitLoss {
  /** Gradient of `total` per variable name (as `tf.variableGrads` returns it). */
  readonly grads: tf.NamedTensorMap;
  /** Algorithm 1's c as a scalar tensor, or null when `confidenceOver` was not given. */
  readonly confidence: tf.Scalar | null;
}

/**
 * One forward pass + objective + gradients. `forward` runs the model and returns the per-exit
 * logits (it is called once, under the gradient tape). All returned tensors belong to the caller;
 * nothing else survives. `vars` defaults to every trainable variable (as `tf.variableGrads`).
 */
export function lossAndGrads(
  forward: () => readonly tf.Tensor2D[],
  labels: tf.Tensor1D,
  settings: LossSettings,
  vars?: tf.Variable[],
): LossAndGrads {
  let parts: MultiExitLoss | null = null;
  let confidence: tf.Scalar | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const logits = forward();
    parts = multiExitLoss({ logits, labels, ...settings });
    tf.keep(parts.classification);
    tf.keep(parts.distillation);
    if (settings.confidenceOver !== undefined) {
      confidence = tf.keep(teacherConfidenceTensor(logits, settings.confidenceOver, settings.temperature));
    }
    return settings.scale === undefined || settings.scale === 1 ? parts.total : (tf.mul(parts.total, settings.scale) as tf.Scalar);
  }, vars);
  const kept = parts as MultiExitLoss | null;
  if (kept === null) throw new Error("lossAndGrads: forward pass did not run");
  return { total: value, classification: kept.classification, distillation: kept.distillation, grads, confidence };
}
