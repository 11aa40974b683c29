/**
 * Seeded dropout: masks are a function of (layer seed, step), so the same seed gives the same
 * numbers and a resumed run draws the masks an uninterrupted one would have drawn.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";
import { dropoutSeed, MexDropout, setDropoutStep } from "../../src/backends/tfjs/layers/index.js";
import { buildModel } from "../../src/backends/tfjs/build.js";
import { train } from "../../src/train/trainer.js";
import { batch, useCpu } from "./setup.js";

beforeAll(useCpu);

function layer(rate = 0.25, seed = 3): MexDropout {
  const d = new MexDropout({ rate, seed });
  d.build([null, 64]);
  return d;
}

const ones = () => tf.ones([32, 64]);
const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe("MexDropout", () => {
  it("is the identity outside training", () => {
    const x = batch([64], 8);
    expect(values(layer().apply(x) as tf.Tensor)).toEqual(values(x));
    expect(values(layer().apply(x, { training: false }) as tf.Tensor)).toEqual(values(x));
  });

  it("training: every value is 0 or x / (1 - rate), about `rate` of them 0", () => {
    const out = values(layer(0.25).apply(ones(), { training: true }) as tf.Tensor);
    for (const v of out) expect(v === 0 || Math.abs(v - 1 / 0.75) < 1e-6).toBe(true);
    const dropped = out.filter((v) => v === 0).length / out.length;
    // 2,048 Bernoulli(0.25) draws: 5 standard deviations is about +-0.048.
    expect(Math.abs(dropped - 0.25)).toBeLessThan(0.05);
  });

  it("the mask is a function of (seed, step): same step same mask, next step a new one", () => {
    const a = layer();
    const b = layer();
    const first = values(a.apply(ones(), { training: true }) as tf.Tensor);
    expect(values(b.apply(ones(), { training: true }) as tf.Tensor)).toEqual(first);
    // Steps advance by one per training call without the trainer...
    const second = values(a.apply(ones(), { training: true }) as tf.Tensor);
    expect(second).not.toEqual(first);
    // ...and setting the step replays a mask exactly (what --resume relies on).
    a.step = 0;
    expect(values(a.apply(ones(), { training: true }) as tf.Tensor)).toEqual(first);
    expect(values(layer(0.25, 4).apply(ones(), { training: true }) as tf.Tensor)).not.toEqual(first);
  });

  it("dropoutSeed spreads nearby steps and seeds over 32 bits", () => {
    const seeds = new Set<number>();
    for (let s = 0; s < 4; s++) for (let step = 0; step < 250; step++) seeds.add(dropoutSeed(s, step));
    expect(seeds.size).toBe(1000);
    for (const v of seeds) expect(v >>> 0).toBe(v);
  });

  it("setDropoutStep reaches every dropout layer of a built model; the config round-trips", () => {
    const { ir } = checkSource(readFileSync(join(import.meta.dirname, "../../specs/mlp.mex"), "utf8"), "mlp.mex");
    const model = buildModel(ir!, { seed: 5 });
    const drops = model.layers.filter((l): l is MexDropout => l instanceof MexDropout);
    expect(drops.map((d) => d.name)).toEqual(["s3/dropout"]);
    setDropoutStep(model, 123);
    expect(drops[0]!.step).toBe(123);
    expect(drops[0]!.getConfig()).toMatchObject({ rate: 0.1, name: "s3/dropout" });
    expect(drops[0]!.seed).not.toBe(buildModel(ir!, { seed: 6 }).getLayer("s3/dropout").getConfig().seed);
  });
});

describe("training with dropout", () => {
  // specs/mlp.mex has dropout(0.1); a small, fast variant of it.
  const text = readFileSync(join(import.meta.dirname, "../../specs/mlp.mex"), "utf8")
    .replace("synthetic(per_class=200, val_per_class=50)", "synthetic(per_class=40, val_per_class=10, test_per_class=10)")
    .replace("epochs: 20", "epochs: 3");
  const ir = () => {
    const c = checkSource(text, "mlp-small.mex");
    if (!c.ir) throw new Error(c.diagnostics.map((d) => d.message).join("; "));
    return c.ir;
  };
  const losses = (r: { history: readonly { loss: number }[] }) => r.history.map((m) => m.loss);
  const weightsOf = (dir: string) => readFileSync(join(dir, "model", "weights.bin"));

  it("same seed, same numbers; resumed after an epoch, the same final weights bit for bit", async () => {
    const root = mkdtempSync(join(tmpdir(), "mex-dropout-"));
    const a = await train(ir(), { dir: join(root, "a") });
    const b = await train(ir(), { dir: join(root, "b") });
    expect(losses(b)).toEqual(losses(a));
    expect(weightsOf(join(root, "b")).equals(weightsOf(join(root, "a")))).toBe(true);

    const first = await train(ir(), { dir: join(root, "c"), stopAfterEpochs: 1 });
    expect(first.completed).toBe(false);
    const resumed = await train(ir(), { dir: join(root, "c"), resume: true });
    expect(resumed.completed).toBe(true);
    expect(losses(resumed)).toEqual(losses(a));
    expect(weightsOf(join(root, "c")).equals(weightsOf(join(root, "a")))).toBe(true);
  }, 120_000);
});
