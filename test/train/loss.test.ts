import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  lossInputError,
  multiExitLoss,
  stopGradient,
  teacherConfidence,
  teacherUnion,
} from "../../src/train/loss.js";

// Fixture shared with bench/peers/loss_reference.py (3 exits, batch 4, 5 classes).
const LOGITS = [
  [[1.0, -0.5, 0.3, 2.0, -1.2], [0.1, 0.4, -0.7, 0.0, 1.5], [-1.0, 2.2, 0.5, -0.3, 0.8], [0.6, -1.1, 1.9, 0.2, -0.4]],
  [[0.2, 1.3, -0.6, 0.9, 0.0], [-0.8, 0.7, 1.1, -1.5, 0.3], [2.0, -0.2, 0.4, 1.0, -0.9], [-0.3, 0.5, 0.0, 1.4, 2.1]],
  [[-0.4, 0.8, 1.6, 2.5, -0.7], [1.2, -0.9, 0.3, 0.6, 2.4], [3.0, 0.1, -1.3, 0.7, 0.2], [0.0, -0.6, 1.0, -0.2, 1.7]],
];
const LABELS = { mixed: [3, -1, 0, 4], unlabeled: [-1, -1, -1, -1] } as const;
const TEACHERS = { last: [[2], [2], []], later: [[1, 2], [2], []] } as const;

type Case = {
  teachers: keyof typeof TEACHERS;
  tau: number;
  weight: number;
  labels: keyof typeof LABELS;
  classification: number;
  distillation: number;
  total: number;
};

// Derived by bench/peers/loss_reference.py (plain Python, cross-checked against torch autograd).
const CASES: Case[] = [
  { teachers: "last", tau: 1.0, weight: 0.5, labels: "mixed", classification: 1.199847933366232, distillation: 1.1693017354613031, total: 2.369149668827535 },
  { teachers: "last", tau: 1.0, weight: 0.3, labels: "mixed", classification: 1.199847933366232, distillation: 1.1693017354613031, total: 2.3813681479895066 },
  { teachers: "last", tau: 3.0, weight: 0.5, labels: "mixed", classification: 1.199847933366232, distillation: 9.77974047692337, total: 10.979588410289603 },
  { teachers: "last", tau: 3.0, weight: 0.3, labels: "mixed", classification: 1.199847933366232, distillation: 9.77974047692337, total: 7.547631392866746 },
  { teachers: "later", tau: 1.0, weight: 0.5, labels: "mixed", classification: 1.199847933366232, distillation: 1.2430839359893147, total: 2.4429318693555464 },
  { teachers: "later", tau: 1.0, weight: 0.3, labels: "mixed", classification: 1.199847933366232, distillation: 1.2430839359893147, total: 2.4256374683063133 },
  { teachers: "later", tau: 3.0, weight: 0.5, labels: "mixed", classification: 1.199847933366232, distillation: 9.85568329824393, total: 11.055531231610162 },
  { teachers: "later", tau: 3.0, weight: 0.3, labels: "mixed", classification: 1.199847933366232, distillation: 9.85568329824393, total: 7.593197085659082 },
  { teachers: "last", tau: 3.0, weight: 0.5, labels: "unlabeled", classification: 0.0, distillation: 9.77974047692337, total: 9.77974047692337 },
  { teachers: "later", tau: 1.0, weight: 1.0, labels: "mixed", classification: 1.199847933366232, distillation: 1.2430839359893147, total: 2.4861678719786293 },
];

// d total / d z_m for teachers "later", tau 3, C 0.3, mixed labels (same script).
const GRAD_CASE = { teachers: "later", tau: 3.0, weight: 0.3, labels: "mixed" } as const;
const GRADS = [[[0.04601360750891244, -0.00513075754046203, 0.01582728568675112, -0.05586776680126779, -0.0008423688539337297], [3.568687026001549e-05, 0.004051659649422703, -0.011948308082173833, 0.004426237681095415, 0.0034347238813957066], [-0.18809599589876133, 0.12776677799069044, 0.02580507479196985, -0.0009017847276374079, 0.03542592784373844], [0.03549147969077715, -0.0006931894857239362, 0.11720584954068783, 0.015892230138731523, -0.16789636988447257]], [[0.030278842480875933, 0.07610244156302802, -0.005800298384567833, -0.12699084418374496, 0.026409858524408844], [-0.010816766622845498, 0.020165716911965493, 0.017322770406461373, -0.0094509560305862, -0.017220764664995176], [-0.07908383604318298, 0.009666584615663967, 0.03146302564722076, 0.038806822337953635, -0.0008525965576553669], [0.0022846213640831383, 0.022126252025537297, -0.0030376658636270346, 0.05240359466862818, -0.07377680219462157]], [[0.005079508282223967, 0.016864561406992242, 0.037532771652335754, -0.06323983362912716, 0.003762992287575208], [0.0, 0.0, 0.0, 0.0, 0.0], [-0.029052726441481134, 0.0069605930041017955, 0.001716461102044689, 0.012683027374640533, 0.007692644960694112], [0.014730958330358162, 0.00808452134251679, 0.04004289634519998, 0.012060688607374505, -0.07491906462544945]]];

const SCRIPT = fileURLToPath(new URL("../../bench/peers/loss_reference.py", import.meta.url));

/** The reference script's JSON, or null when python3 is not installed. Fails on a torch mismatch. */
function runReference(): Record<string, unknown> | null {
  const run = spawnSync("python3", [SCRIPT], { encoding: "utf8", timeout: 120_000 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === "ENOENT") return null;
  if (run.status !== 0) throw new Error(`loss_reference.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

function expectClose(actual: number, expected: number, tol = 1e-5): void {
  expect(Number.isFinite(actual)).toBe(true);
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected)));
}

function logitTensors(): tf.Tensor2D[] {
  return LOGITS.map((z) => tf.tensor2d(z));
}

function lossOf(c: Pick<Case, "teachers" | "tau" | "weight" | "labels">, logits: tf.Tensor2D[]) {
  const labels = tf.tensor1d([...LABELS[c.labels]], "int32");
  const out = multiExitLoss({
    logits,
    labels,
    teachers: TEACHERS[c.teachers],
    weight: c.weight,
    temperature: c.tau,
  });
  return out;
}

/** d total / d logits for each exit, as nested arrays. */
function gradsOf(c: Pick<Case, "teachers" | "tau" | "weight" | "labels">): number[][][] {
  return tf.tidy(() => {
    const logits = logitTensors();
    const g = tf.grads((...zs: tf.Tensor[]) => lossOf(c, zs as tf.Tensor2D[]).total)(logits);
    return g.map((t) => t.arraySync() as number[][]);
  });
}

function softmax(z: readonly number[], tau = 1): number[] {
  const mx = Math.max(...z);
  const e = z.map((v) => Math.exp((v - mx) / tau));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("multiExitLoss values", () => {
  it.each(CASES)("teachers $teachers, tau $tau, C $weight, $labels labels", (c) => {
    tf.tidy(() => {
      const out = lossOf(c, logitTensors());
      expectClose(out.classification.dataSync()[0]!, c.classification);
      expectClose(out.distillation.dataSync()[0]!, c.distillation);
      expectClose(out.total.dataSync()[0]!, c.total);
    });
  });

  it("matches the reference gradients (teachers later, tau 3, C 0.3)", () => {
    const g = gradsOf(GRAD_CASE);
    GRADS.forEach((gm, m) => gm.forEach((gn, n) => gn.forEach((v, k) => expectClose(g[m]![n]![k]!, v, 1e-6))));
  });

  it("agrees with a fresh run of bench/peers/loss_reference.py (skipped without python3)", (ctx) => {
    const ref = runReference();
    if (ref === null) return ctx.skip();
    const loss = ref["loss"] as Case[];
    expect(loss.length).toBe(CASES.length);
    loss.forEach((r, i) => {
      const c = CASES[i]!;
      expect([r.teachers, r.tau, r.weight, r.labels]).toEqual([c.teachers, c.tau, c.weight, c.labels]);
      expectClose(r.classification, c.classification, 1e-12);
      expectClose(r.distillation, c.distillation, 1e-12);
      expectClose(r.total, c.total, 1e-12);
    });
    const grads = (ref["grad"] as { grads: number[][][] }).grads;
    GRADS.forEach((gm, m) => gm.forEach((gn, n) => gn.forEach((v, k) => expectClose(grads[m]![n]![k]!, v, 1e-12))));
  });
});

describe("teacher detachment", () => {
  it("stopGradient passes values and blocks gradients", () => {
    tf.tidy(() => {
      const x = tf.tensor1d([1, 2, 3]);
      const y = tf.tensor1d([4, 5, 6]);
      const [gx, gy] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(stopGradient(a), b)))([x, y]);
      expect(Array.from(gx!.dataSync())).toEqual([0, 0, 0]);
      expect(Array.from(gy!.dataSync())).toEqual([1, 2, 3]);
    });
  });

  it.each(["last", "later"] as const)("C = 1: the last exit gets exactly zero gradient (teachers %s)", (teachers) => {
    const g = gradsOf({ teachers, tau: 3, weight: 1, labels: "mixed" });
    expect(g[2]!.flat().every((v) => v === 0)).toBe(true);
    // Students (exit 0, and exit 1 which is a student of exit 2) do receive gradient.
    expect(g[0]!.flat().some((v) => Math.abs(v) > 1e-4)).toBe(true);
    expect(g[1]!.flat().some((v) => Math.abs(v) > 1e-4)).toBe(true);
  });

  it("C = 0.5: the last exit's gradient is its own CE gradient times 2(1-C)/M", () => {
    const C = 0.5;
    const M = 3;
    const labels = LABELS.mixed;
    const labeledCount = labels.filter((y) => y >= 0).length;
    const g = gradsOf({ teachers: "later", tau: 3, weight: C, labels: "mixed" });
    LOGITS[2]!.forEach((z, n) => {
      const p = softmax(z);
      const y = labels[n]!;
      p.forEach((pk, k) => {
        // d CE_mean / dz = (softmax - onehot) / L on labeled rows, 0 on unlabeled rows.
        const ce = y < 0 ? 0 : (pk - (k === y ? 1 : 0)) / labeledCount;
        expectClose(g[2]![n]![k]!, ((2 * (1 - C)) / M) * ce, 1e-6);
      });
    });
  });
});

describe("the tau^2 factor", () => {
  /** Gradient of the distillation term alone w.r.t. exit 0 (teacher: exit 2). */
  function distillGrad(tau: number): number[][] {
    return tf.tidy(() => {
      const logits = logitTensors();
      const labels = tf.tensor1d([...LABELS.mixed], "int32");
      const g = tf.grad((z0: tf.Tensor) =>
        multiExitLoss({
          logits: [z0 as tf.Tensor2D, logits[1]!, logits[2]!],
          labels,
          teachers: [[2], [], []],
          weight: 1,
          temperature: tau,
        }).distillation,
      )(logits[0]!);
      return g.arraySync() as number[][];
    });
  }

  it("the student gradient is tau (softmax(z_s/tau) - softmax(z_t/tau)) / (N M)", () => {
    const tau = 3;
    const g = distillGrad(tau);
    const N = 4;
    const M = 3;
    LOGITS[0]!.forEach((z, n) => {
      const s = softmax(z, tau);
      const t = softmax(LOGITS[2]![n]!, tau);
      s.forEach((sk, k) => expectClose(g[n]![k]!, (tau * (sk - t[k]!)) / (N * M), 1e-6));
    });
  });

  it("keeps the gradient magnitude roughly independent of tau (it would halve without tau^2)", () => {
    const norm = (g: number[][]) => Math.sqrt(g.flat().reduce((a, v) => a + v * v, 0));
    const n8 = norm(distillGrad(8));
    const n16 = norm(distillGrad(16));
    expect(Math.abs(n16 / n8 - 1)).toBeLessThan(0.05);
    // Without tau^2 the gradient scales as 1/tau^2 * tau = 1/tau: ratio 0.5. Check the large-tau
    // limit too: grad -> (centered(z_s) - centered(z_t)) / (K N M).
    const K = 5;
    const g = distillGrad(1000);
    LOGITS[0]!.forEach((z, n) => {
      const zt = LOGITS[2]![n]!;
      const d = z.map((v, k) => v - zt[k]!);
      const mean = d.reduce((a, b) => a + b, 0) / K;
      d.forEach((dk, k) => expect(Math.abs(g[n]![k]! - (dk - mean) / (K * 4 * 3))).toBeLessThan(1e-4));
    });
  });
});

describe("unlabeled batches", () => {
  it("all-unlabeled: classification 0 and finite gradients", () => {
    tf.tidy(() => {
      const out = lossOf({ teachers: "last", tau: 3, weight: 0.5, labels: "unlabeled" }, logitTensors());
      expect(out.classification.dataSync()[0]).toBe(0);
    });
    const g = gradsOf({ teachers: "last", tau: 3, weight: 0.5, labels: "unlabeled" });
    expect(g.flat(2).every(Number.isFinite)).toBe(true);
    // Exit 2 has no teacher and no label: no signal at all.
    expect(g[2]!.flat().every((v) => v === 0)).toBe(true);
  });

  it("no teachers anywhere: distillation 0", () => {
    tf.tidy(() => {
      const labels = tf.tensor1d([...LABELS.mixed], "int32");
      const out = multiExitLoss({ logits: logitTensors(), labels, teachers: [[], [], []], weight: 0, temperature: 1 });
      expect(out.distillation.dataSync()[0]).toBe(0);
      expectClose(out.total.dataSync()[0]!, 2 * 1.199847933366232);
    });
  });
});

describe("teacher confidence (Algorithm 1)", () => {
  it("is the batch mean of the max of the mean teacher distribution", () => {
    tf.tidy(() => {
      // Exit 1 rows: softmax [0.25, 0.75] and [0.8, 0.2]; exit 0 rows: [0.5, 0.5] and [0.5, 0.5].
      const z1 = tf.tensor2d([[0, Math.log(3)], [Math.log(4), 0]]);
      const z0 = tf.tensor2d([[0, 0], [1, 1]]);
      expectClose(teacherConfidence([z0, z1], [1], 1), (0.75 + 0.8) / 2);
      // Mean of the two teachers: [0.375, 0.625] and [0.65, 0.35].
      expectClose(teacherConfidence([z0, z1], [0, 1], 1), (0.625 + 0.65) / 2);
      // tau = 2: softmax([0, ln 3] / 2) = [1, sqrt 3] / (1 + sqrt 3); softmax([ln 4, 0] / 2) = [2/3, 1/3].
      expectClose(teacherConfidence([z0, z1], [1], 2), (Math.sqrt(3) / (1 + Math.sqrt(3)) + 2 / 3) / 2);
      expect(teacherConfidence([z0, z1], [], 1)).toBe(0);
    });
  });

  it("teacherUnion collects T(:) sorted", () => {
    expect(teacherUnion([[3], [2, 3], [3], []])).toEqual([2, 3]);
    expect(teacherUnion([[], []])).toEqual([]);
  });
});

describe("input checks", () => {
  it("reports malformed calls", () => {
    expect(lossInputError(3, [[2], [2], []], 0.5, 1)).toBeNull();
    expect(lossInputError(3, [[2], []], 0.5, 1)).toMatch(/3 exits but 2 teacher sets/);
    expect(lossInputError(3, [[3], [], []], 0.5, 1)).toMatch(/teacher 3 of exit 0/);
    expect(lossInputError(3, [[0], [], []], 0.5, 1)).toMatch(/cannot teach itself/);
    expect(lossInputError(3, [[2], [2], []], 1.5, 1)).toMatch(/weight C/);
    expect(lossInputError(3, [[2], [2], []], 0.5, 0)).toMatch(/temperature/);
    const labels = tf.tensor1d([0], "int32");
    expect(() =>
      multiExitLoss({ logits: [tf.zeros([1, 2]) as tf.Tensor2D], labels, teachers: [], weight: 0, temperature: 1 }),
    ).toThrow(/1 exits but 0 teacher sets/);
  });
});
