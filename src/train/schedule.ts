/**
 * Learning rate per epoch (epochs are 0-based; the rate is constant within an epoch).
 * - constant: baseLr;
 * - multistep: baseLr * gamma^(number of milestones <= epoch), so milestone 150 means the rate is
 *   divided at the start of the 151st epoch, as PyTorch's MultiStepLR stepped once per epoch;
 * - cosine: minLr + (baseLr - minLr) * (1 + cos(pi * epoch / epochs)) / 2 (PyTorch's
 *   CosineAnnealingLR with T_max = epochs: baseLr at epoch 0, minLr would be reached at `epochs`).
 */
import type { ScheduleIR } from "../ir/model.js";

export function learningRate(schedule: ScheduleIR, baseLr: number, epoch: number, epochs: number): number {
  switch (schedule.kind) {
    case "constant":
      return baseLr;
    case "multistep": {
      const passed = schedule.milestones.filter((m) => m <= epoch).length;
      return baseLr * Math.pow(schedule.gamma, passed);
    }
    case "cosine": {
      const progress = epochs > 0 ? Math.min(Math.max(epoch / epochs, 0), 1) : 0;
      return schedule.minLr + ((baseLr - schedule.minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
  }
}
