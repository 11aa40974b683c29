// Times one training step (forward + backward + SGD update) of a small conv net
// on the wasm backend (with the mex kernels) and on the cpu backend.
//
//   npx tsc -p tsconfig.json && node dist/src/backends/tfjs/wasm-kernels/measure.js [--profile] [--batch 64] [--cpu-steps 1]
//
// Net: conv3x3/32-bn-relu-maxpool2, conv3x3/64-bn-relu-maxpool2, conv3x3/128-bn-relu,
// global average pool, dense 10; input 28x28x1, softmax cross-entropy.
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.js";

interface Net {
  readonly vars: tf.Variable[];
  loss(x: tf.Tensor4D, y: tf.Tensor2D): tf.Scalar;
}

function convBlock(x: tf.Tensor4D, w: tf.Variable, gamma: tf.Variable, beta: tf.Variable, pool: boolean): tf.Tensor4D {
  const h = tf.conv2d(x, w as tf.Tensor4D, 1, "same");
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  const r = tf.relu(tf.batchNorm(h, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-5)) as tf.Tensor4D;
  return pool ? tf.maxPool(r, 2, 2, "valid") : r;
}

function makeNet(seed: number): Net {
  const he = (shape: number[], fanIn: number, s: number) =>
    tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), "float32", seed + s));
  const w1 = he([3, 3, 1, 32], 9, 1), w2 = he([3, 3, 32, 64], 288, 2), w3 = he([3, 3, 64, 128], 576, 3);
  const g = [32, 64, 128].map((c) => tf.variable(tf.ones([c])));
  const b = [32, 64, 128].map((c) => tf.variable(tf.zeros([c])));
  const wd = he([128, 10], 128, 4), bd = tf.variable(tf.zeros([10]));
  return {
    vars: [w1, w2, w3, ...g, ...b, wd, bd],
    loss(x, y) {
      let h = convBlock(x, w1, g[0]!, b[0]!, true);
      h = convBlock(h, w2, g[1]!, b[1]!, true);
      h = convBlock(h, w3, g[2]!, b[2]!, false);
      const logits = tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, wd), bd);
      return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
    },
  };
}

function makeBatch(batch: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, "float32", 7) as tf.Tensor4D;
  const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => (i * 7) % 10), "int32");
  return { x, y: tf.oneHot(labels, 10).toFloat() as tf.Tensor2D };
}

function step(net: Net, opt: tf.Optimizer, x: tf.Tensor4D, y: tf.Tensor2D): number {
  return tf.tidy(() => {
    const cost = opt.minimize(() => net.loss(x, y), true, net.vars);
    return cost!.dataSync()[0]!;
  });
}

/** Median and fastest wall time of `steps` training steps after `warmup` untimed ones. */
export function timeSteps(batch: number, warmup: number, steps: number): { ms: number; minMs: number; loss: number } {
  const net = makeNet(1);
  const opt = tf.train.momentum(0.01, 0.9);
  const { x, y } = makeBatch(batch);
  let loss = NaN;
  for (let i = 0; i < warmup; i++) loss = step(net, opt, x, y);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    loss = step(net, opt, x, y);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  tf.dispose([x, y, ...net.vars]);
  opt.dispose();
  return { ms: times[Math.floor(times.length / 2)]!, minMs: times[0]!, loss };
}

async function profileStep(batch: number): Promise<void> {
  const net = makeNet(1);
  const opt = tf.train.momentum(0.01, 0.9);
  const { x, y } = makeBatch(batch);
  step(net, opt, x, y);
  const steps = 5;
  const kernels: Awaited<ReturnType<typeof tf.profile>>["kernels"] = [];
  for (let i = 0; i < steps; i++) {
    const info = await tf.profile(() => {
      step(net, opt, x, y);
    });
    kernels.push(...info.kernels);
  }
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of kernels) {
    const ms = await k.kernelTimeMs;
    const name = k.name;
    const e = byKernel.get(name) ?? { ms: 0, calls: 0 };
    e.ms += typeof ms === "number" ? ms / steps : 0;
    e.calls += 1 / steps;
    byKernel.set(name, e);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((t, [, e]) => t + e.ms, 0);
  console.log(`per-kernel time, mean of ${steps} profiled steps (total ${total.toFixed(1)} ms):`);
  for (const [name, e] of rows.slice(0, 25)) console.log(`  ${name.padEnd(36)} ${e.ms.toFixed(1).padStart(8)} ms  x${Math.round(e.calls)}`);
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const batch = arg("--batch", 64);
  const wasmInfo = await initBackend("wasm");
  console.log(`backend: ${wasmInfo.name} (${wasmInfo.reason})`);
  if (process.argv.includes("--profile")) await profileStep(batch);
  const wasm = timeSteps(batch, 2, arg("--wasm-steps", 7));
  console.log(`wasm: ${wasm.ms.toFixed(1)} ms/step median, ${wasm.minMs.toFixed(1)} fastest (batch ${batch}, loss ${wasm.loss.toFixed(4)})`);
  const cpuSteps = arg("--cpu-steps", 1);
  if (cpuSteps <= 0) return;
  await initBackend("cpu");
  const cpu = timeSteps(batch, 0, cpuSteps);
  console.log(`cpu:  ${cpu.ms.toFixed(1)} ms/step median, ${cpu.minMs.toFixed(1)} fastest (loss ${cpu.loss.toFixed(4)})`);
  console.log(`speed-up wasm vs cpu: ${(cpu.ms / wasm.ms).toFixed(1)}x (median), ${(cpu.minMs / wasm.minMs).toFixed(1)}x (fastest)`);
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"))) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
