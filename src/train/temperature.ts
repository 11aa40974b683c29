/**
 * The distillation temperature tau over training (../shared/METHOD.md, "Temperature"):
 * - constant: fixed;
 * - adaptive (Algorithm 1 of the paper): start at `start`; after each batch whose mean teacher
 *   confidence c exceeds `confidence` (mu), tau *= factor. tau never decreases, and the new value
 *   applies from the next batch;
 * - linear: from `from` at epoch 0 to `to` at the last epoch (epochs = 1: `from`).
 *
 * Trainer protocol: `startEpoch(e)` before each epoch, read `value` for each batch, and call
 * `afterBatch(c)` after each gradient step when `needsConfidence` (otherwise it is a no-op).
 */
import type { TemperatureIR } from "../ir/model.js";

/** Plain-data snapshot for checkpoints. */
export interface TemperatureState {
  readonly kind: TemperatureIR["kind"];
  readonly value: number;
}

export class Temperature {
  private tau: number;

  constructor(
    private readonly ir: TemperatureIR,
    private readonly epochs: number,
  ) {
    if (!(Number.isInteger(epochs) && epochs >= 1)) {
      throw new Error(`Temperature: epochs must be a positive integer, got ${epochs}`);
    }
    this.tau = initialValue(ir);
  }

  /** The tau to use for the next batch. */
  get value(): number {
    return this.tau;
  }

  /** Only the adaptive rule reads the teacher confidence; the trainer can skip computing it otherwise. */
  get needsConfidence(): boolean {
    return this.ir.kind === "adaptive";
  }

  /** Called before the first batch of `epoch` (0-based). Only the linear schedule moves here. */
  startEpoch(epoch: number): void {
    if (this.ir.kind !== "linear") return;
    const { from, to } = this.ir;
    // Clamp so a resumed or overlong run never extrapolates past `to`.
    const progress = this.epochs === 1 ? 0 : Math.min(Math.max(epoch / (this.epochs - 1), 0), 1);
    this.tau = from + (to - from) * progress;
  }

  /**
   * Algorithm 1's update after a gradient step, given that batch's confidence c.
   * Returns true when tau grew.
   */
  afterBatch(confidence: number): boolean {
    if (this.ir.kind !== "adaptive") return false;
    if (!(confidence > this.ir.confidence)) return false; // NaN never raises tau
    this.tau *= this.ir.factor;
    return true;
  }

  state(): TemperatureState {
    return { kind: this.ir.kind, value: this.tau };
  }

  /** Restores a snapshot taken from a Temperature built from the same kind of rule. */
  restore(state: TemperatureState): void {
    if (state.kind !== this.ir.kind) {
      throw new Error(`Temperature.restore: checkpoint has a ${state.kind} temperature, the spec says ${this.ir.kind}`);
    }
    if (!(state.value > 0) || !Number.isFinite(state.value)) {
      throw new Error(`Temperature.restore: invalid tau ${state.value}`);
    }
    this.tau = state.value;
  }
}

function initialValue(ir: TemperatureIR): number {
  switch (ir.kind) {
    case "constant":
      return ir.value;
    case "adaptive":
      return ir.start;
    case "linear":
      return ir.from;
  }
}
