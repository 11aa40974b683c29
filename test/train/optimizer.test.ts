import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { createOptimizer, type MexOptimizer } from "../../src/train/optimizer.js";
import type { OptimizerIR } from "../../src/ir/model.js";

// f(w) = 0.5 * sum_i A_i (w_i - B_i)^2 from W0 (same as bench/peers/loss_reference.py).
const W0 = [1.0, -2.0, 0.5, 3.0];
const A = [1.0, 3.0, 0.5, 2.0];
const B = [0.2, 0.1, -1.0, 0.0];

const CONFIGS: Record<string, OptimizerIR> = {
  sgd_nesterov: { kind: "sgd", lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 },
  sgd_momentum: { kind: "sgd", lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 1e-4 },
  adam: { kind: "adam", lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 },
};

// w after steps 1, 2, 3: plain-Python restatement of torch.optim.SGD / Adam, checked against torch.optim.
const EXPECTED: Record<string, number[][]> = {
  sgd_nesterov: [[0.847981, -0.8029619999999997, 0.3574905, 1.859943], [0.6600403983609999, 0.22205779627800037, 0.16776806018049997, 0.6671050210829998], [0.4617995622587411, 0.8311914832936109, -0.05283299905284097, -0.3251552634622408]],
  sgd_momentum: [[0.91999, -1.36998, 0.424995, 2.3999699999999997], [0.7759728000999999, -0.36195430019999963, 0.28623650005, 1.3799250002999996], [0.5887522804519989, 0.6838587392230027, 0.09703916272749949, 0.1858857012599966]],
  adam: [[0.9000000012498438, -1.9000000001587252, 0.4000000013332444, 2.900000000166658], [0.8005682644225626, -1.8001568456071362, 0.3002391054430897, 2.800102707414772], [0.7022199832511453, -1.7005866022993605, 0.20090303318033081, 2.7003815234507216]],
};

const SCRIPT = fileURLToPath(new URL("../../bench/peers/loss_reference.py", import.meta.url));

let counter = 0;
function freshVariable(init: number[] = W0): tf.Variable {
  return tf.variable(tf.tensor1d(init), true, `opt_test_w_${counter++}`);
}

function step(opt: MexOptimizer, w: tf.Variable): void {
  const a = tf.tensor1d(A);
  const b = tf.tensor1d(B);
  const { value, grads } = tf.variableGrads(
    () => tf.mul(0.5, tf.sum(tf.mul(a, tf.square(tf.sub(w, b))))) as tf.Scalar,
    [w],
  );
  opt.applyGradients(grads);
  tf.dispose([a, b, value, grads]);
}

function expectCloseArray(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i]! - e)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e))));
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe.each(Object.keys(CONFIGS))("%s on a quadratic", (name) => {
  it("matches PyTorch after one and three steps", () => {
    const opt = createOptimizer(CONFIGS[name]!);
    const w = freshVariable();
    for (let s = 0; s < 3; s++) {
      step(opt, w);
      expectCloseArray(w.dataSync(), EXPECTED[name]![s]!);
    }
    expect(opt.iterations).toBe(3);
    opt.dispose();
    w.dispose();
  });

  it("resumes exactly from exportState / importState", () => {
    const a = createOptimizer(CONFIGS[name]!);
    const w = freshVariable();
    step(a, w);
    const saved = a.exportState();
    const wSaved = Array.from(w.dataSync());
    step(a, w);
    step(a, w);
    const direct = Array.from(w.dataSync());

    const b = createOptimizer(CONFIGS[name]!);
    const w2 = freshVariable(wSaved);
    b.importState(saved, () => w2.name);
    step(b, w2);
    step(b, w2);
    expect(Array.from(w2.dataSync())).toEqual(direct);
    expect(b.iterations).toBe(3);
    tf.dispose([w, w2]);
    a.dispose();
    b.dispose();
  });
});

describe("optimizer details", () => {
  it("accepts NamedTensor[] gradients and skips variables without gradient", () => {
    const opt = createOptimizer({ kind: "sgd", lr: 0.5, momentum: 0, nesterov: false, weightDecay: 0 });
    const w = freshVariable([1, 2]);
    const g = tf.tensor1d([0.2, -0.4]);
    opt.applyGradients([{ name: w.name, tensor: g }]);
    expectCloseArray(w.dataSync(), [0.9, 2.2], 1e-7);
    opt.applyGradients({ [w.name]: null as unknown as tf.Tensor });
    expectCloseArray(w.dataSync(), [0.9, 2.2], 1e-7);
    tf.dispose([w, g]);
    opt.dispose();
  });

  it("setLearningRate changes the step; weight decay uses the coupled PyTorch form", () => {
    const opt = createOptimizer({ kind: "sgd", lr: 1, momentum: 0, nesterov: false, weightDecay: 0.1 });
    const w = freshVariable([2]);
    const zero = tf.tensor1d([0]);
    opt.setLearningRate(0.5);
    expect(opt.learningRate).toBe(0.5);
    opt.applyGradients({ [w.name]: zero }); // w -= 0.5 * (0 + 0.1 * 2)
    expectCloseArray(w.dataSync(), [1.9], 1e-7);
    tf.dispose([w, zero]);
    opt.dispose();
  });

  it("getWeights / setWeights round trip (tfjs-style)", async () => {
    const a = createOptimizer(CONFIGS["sgd_nesterov"]!);
    const w = freshVariable();
    step(a, w);
    const weights = await a.getWeights();
    expect(weights.map((x) => x.name)).toEqual(["iter", `${w.name}/momentum`]);
    const b = createOptimizer(CONFIGS["sgd_nesterov"]!);
    await b.setWeights(weights);
    expect(Array.from(b.exportState().variables[0]!.slots["momentum"]!)).toEqual(
      Array.from(a.exportState().variables[0]!.slots["momentum"]!),
    );
    expect(b.iterations).toBe(1);
    tf.dispose(weights.map((x) => x.tensor));
    tf.dispose(w);
    a.dispose();
    b.dispose();
  });

  it("rejects a checkpoint of another kind or shape", () => {
    const a = createOptimizer(CONFIGS["adam"]!);
    const w = freshVariable();
    step(a, w);
    const state = a.exportState();
    expect(() => createOptimizer(CONFIGS["sgd_momentum"]!).importState(state)).toThrow(/adam state/);
    const small = freshVariable([1]);
    expect(() => createOptimizer(CONFIGS["adam"]!).importState(state, () => small.name)).toThrow(/shape/);
    tf.dispose([w, small]);
    a.dispose();
  });

  it("agrees with a fresh run of bench/peers/loss_reference.py (skipped without python3)", (ctx) => {
    const run = spawnSync("python3", [SCRIPT], { encoding: "utf8", timeout: 120_000 });
    if (run.error && (run.error as NodeJS.ErrnoException).code === "ENOENT") return ctx.skip();
    expect(run.status, run.stderr).toBe(0);
    const ref = JSON.parse(run.stdout) as { optimizer: Record<string, number[][]> };
    for (const name of Object.keys(EXPECTED)) {
      EXPECTED[name]!.forEach((w, s) => expectCloseArray(ref.optimizer[name]![s]!, w, 1e-12));
    }
  });
});
