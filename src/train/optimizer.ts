/**
 * SGD and Adam with PyTorch's semantics, as tfjs optimizers.
 *
 * Why not tf.train.momentum / tf.train.adam: tfjs's momentum optimizer scales the velocity by the
 * learning rate and uses a different Nesterov formula, and neither has weight decay. The paper's
 * recipe (SGD, Nesterov momentum 0.9, weight decay 1e-4) is defined by torch.optim, so we restate it:
 *
 *   SGD   g = grad + wd * w                      (coupled weight decay, on every parameter)
 *         buf = momentum * buf + g               (buf starts at 0, i.e. buf = g on the first step)
 *         update = nesterov ? g + momentum * buf : buf
 *         w -= lr * update
 *   Adam  g = grad + wd * w                      (L2 added to the gradient, not AdamW)
 *         m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  t = this parameter's step count
 *         w -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * Weight decay applies to every variable that receives a gradient, batch-norm gammas/betas and
 * biases included, exactly as the authors' plain `torch.optim.SGD(weight_decay=...)` does.
 *
 * Both classes extend `tf.Optimizer`, so they work with `minimize`, `computeGradients`,
 * `model.compile`, and with gradients from `tf.variableGrads` (keyed by variable name; a
 * LayersModel's weights are registered tf.Variables, found by that name).
 * Checkpoints: `exportState()` / `importState()` (synchronous, Float32Arrays), or the tfjs-style
 * async `getWeights()` / `setWeights()`.
 */
import * as tf from "@tensorflow/tfjs";
import type { OptimizerIR } from "../ir/model.js";

/** One variable's optimizer slots, as plain data. */
export interface VariableSlots {
  /** The tf.Variable's name (what `tf.variableGrads` keys gradients by). */
  readonly name: string;
  readonly shape: readonly number[];
  /** Number of updates this variable has received (Adam's bias correction uses it). */
  readonly step: number;
  /** Slot name ("momentum", or "m" and "v") -> values, row-major. */
  readonly slots: Readonly<Record<string, Float32Array>>;
}

export interface OptimizerState {
  readonly kind: OptimizerIR["kind"];
  /** Number of `applyGradients` calls. */
  readonly iterations: number;
  readonly variables: readonly VariableSlots[];
}

/** tfjs-core's NamedTensor (not re-exported by @tensorflow/tfjs). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slot {
  readonly variable: tf.Variable;
  readonly buffers: tf.Variable[];
  step: number;
}

export abstract class MexOptimizer extends tf.Optimizer {
  private readonly slotsByName = new Map<string, Slot>();
  private lr: number;
  private lrScalar: tf.Scalar;

  protected constructor(
    readonly kind: OptimizerIR["kind"],
    learningRate: number,
    protected readonly weightDecay: number,
  ) {
    super();
    checkNonNegative("learning rate", learningRate);
    checkNonNegative("weight decay", weightDecay);
    this.lr = learningRate;
    this.lrScalar = tf.keep(tf.scalar(learningRate));
  }

  /** Slot names, in storage order. */
  protected abstract readonly slotNames: readonly string[];

  /** Updates `w` and its slots in place; runs inside a tidy, so temporaries need no disposal. */
  protected abstract update(w: tf.Variable, grad: tf.Tensor, buffers: tf.Variable[], step: number): void;

  get learningRate(): number {
    return this.lr;
  }

  setLearningRate(lr: number): void {
    checkNonNegative("learning rate", lr);
    if (lr === this.lr) return;
    this.lr = lr;
    this.lrScalar.dispose();
    this.lrScalar = tf.keep(tf.scalar(lr));
  }

  protected get lrTensor(): tf.Scalar {
    return this.lrScalar;
  }

  /** One step. Entries with a null gradient (a variable the loss did not reach) are skipped. */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor] as const)
      : Object.entries(variableGradients);
    tf.tidy(() => {
      for (const [name, grad] of entries) {
        if (grad == null) continue;
        const slot = this.slotFor(name);
        slot.step += 1;
        this.update(slot.variable, grad, slot.buffers, slot.step);
      }
    });
    this.incrementIterations();
  }

  /** g = grad + wd * w (PyTorch's coupled weight decay). */
  protected decayed(w: tf.Variable, grad: tf.Tensor): tf.Tensor {
    return this.weightDecay === 0 ? grad : tf.add(grad, tf.mul(w, this.weightDecay));
  }

  private slotFor(name: string): Slot {
    const existing = this.slotsByName.get(name);
    if (existing !== undefined) return existing;
    const variable = tf.engine().registeredVariables[name];
    if (variable === undefined) throw new Error(`optimizer: no registered variable named "${name}"`);
    const buffers = this.slotNames.map(() => tf.variable(tf.zerosLike(variable), false));
    const slot: Slot = { variable, buffers, step: 0 };
    this.slotsByName.set(name, slot);
    return slot;
  }

  /** Synchronous snapshot of every slot (downloads each buffer once). */
  exportState(): OptimizerState {
    const variables: VariableSlots[] = [];
    for (const [name, slot] of this.slotsByName) {
      const slots: Record<string, Float32Array> = {};
      this.slotNames.forEach((s, i) => {
        slots[s] = Float32Array.from(slot.buffers[i]!.dataSync() as Float32Array);
      });
      variables.push({ name, shape: [...slot.variable.shape], step: slot.step, slots });
    }
    return { kind: this.kind, iterations: this.iterations, variables };
  }

  /**
   * Restores a snapshot. Variables are looked up by name (they must exist and have the saved shape);
   * a renamed variable can be mapped with `rename` (saved name -> current name).
   */
  importState(state: OptimizerState, rename?: (saved: string) => string): void {
    if (state.kind !== this.kind) {
      throw new Error(`optimizer: checkpoint holds ${state.kind} state, the spec says ${this.kind}`);
    }
    for (const saved of state.variables) {
      const name = rename ? rename(saved.name) : saved.name;
      const slot = this.slotFor(name);
      if (!sameShape(slot.variable.shape, saved.shape)) {
        throw new Error(
          `optimizer: variable "${name}" has shape [${slot.variable.shape}], checkpoint has [${saved.shape}]`,
        );
      }
      this.slotNames.forEach((s, i) => {
        const values = saved.slots[s];
        if (values === undefined || values.length !== slot.variable.size) {
          throw new Error(`optimizer: checkpoint slot "${s}" of "${name}" is missing or has the wrong size`);
        }
        tf.tidy(() => slot.buffers[i]!.assign(tf.tensor(values, slot.variable.shape, "float32")));
      });
      slot.step = saved.step;
    }
    this.iterations_ = state.iterations;
  }

  /** tfjs-style weights: the iteration count, then `<variable>/<slot>` tensors (copies). */
  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [await this.saveIterations()];
    for (const [name, slot] of this.slotsByName) {
      this.slotNames.forEach((s, i) => out.push({ name: `${name}/${s}`, tensor: tf.clone(slot.buffers[i]!) }));
    }
    return out;
  }

  /** Inverse of `getWeights` (per-variable step counts are set to the iteration count). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    for (const { name, tensor } of rest) {
      const cut = name.lastIndexOf("/");
      const index = this.slotNames.indexOf(name.slice(cut + 1));
      if (cut < 0 || index < 0) throw new Error(`optimizer: unexpected weight "${name}"`);
      const slot = this.slotFor(name.slice(0, cut));
      slot.buffers[index]!.assign(tensor);
      slot.step = this.iterations;
    }
  }

  override dispose(): void {
    for (const slot of this.slotsByName.values()) for (const b of slot.buffers) b.dispose();
    this.slotsByName.clear();
    this.lrScalar.dispose();
  }
}

export interface SgdOptions {
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
}

export class SgdOptimizer extends MexOptimizer {
  static readonly className = "MexSGD";
  protected readonly slotNames: readonly string[];
  private readonly momentumScalar: tf.Scalar;

  constructor(private readonly options: SgdOptions) {
    super("sgd", options.lr, options.weightDecay);
    checkNonNegative("momentum", options.momentum);
    this.slotNames = options.momentum > 0 ? ["momentum"] : [];
    this.momentumScalar = tf.keep(tf.scalar(options.momentum));
  }

  protected update(w: tf.Variable, grad: tf.Tensor, buffers: tf.Variable[], _step: number): void {
    const g = this.decayed(w, grad);
    let step = g;
    const buf = buffers[0];
    if (buf !== undefined) {
      const next = tf.add(tf.mul(buf, this.momentumScalar), g);
      buf.assign(next);
      step = this.options.nesterov ? tf.add(g, tf.mul(next, this.momentumScalar)) : next;
    }
    w.assign(tf.sub(w, tf.mul(step, this.lrTensor)));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...this.options, lr: this.learningRate };
  }

  override dispose(): void {
    super.dispose();
    this.momentumScalar.dispose();
  }
}

export interface AdamOptions {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
}

export class AdamOptimizer extends MexOptimizer {
  static readonly className = "MexAdam";
  protected readonly slotNames: readonly string[] = ["m", "v"];

  constructor(private readonly options: AdamOptions) {
    super("adam", options.lr, options.weightDecay);
    for (const [what, b] of [["beta1", options.beta1], ["beta2", options.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`optimizer: ${what} must be in [0, 1), got ${b}`);
    }
    checkNonNegative("epsilon", options.epsilon);
  }

  protected update(w: tf.Variable, grad: tf.Tensor, buffers: tf.Variable[], step: number): void {
    const { beta1, beta2, epsilon } = this.options;
    const [m, v] = buffers as [tf.Variable, tf.Variable];
    const g = this.decayed(w, grad);
    const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
    const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
    m.assign(m1);
    v.assign(v1);
    const stepSize = this.learningRate / (1 - Math.pow(beta1, step));
    const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(1 - Math.pow(beta2, step))), epsilon);
    w.assign(tf.sub(w, tf.mul(tf.div(m1, denom), stepSize)));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...this.options, lr: this.learningRate };
  }
}

/** The optimizer a checked spec asks for. */
export function createOptimizer(ir: OptimizerIR): MexOptimizer {
  switch (ir.kind) {
    case "sgd":
      return new SgdOptimizer(ir);
    case "adam":
      return new AdamOptimizer(ir);
  }
}

function checkNonNegative(what: string, x: number): void {
  if (!(x >= 0) || !Number.isFinite(x)) throw new Error(`optimizer: ${what} must be a finite number >= 0, got ${x}`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
