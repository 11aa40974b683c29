/**
 * Inferred parameters and MACs of shipped specs against values computed BY HAND here.
 * Conventions (src/ir/model.ts): conv params = k*k*inC/groups*filters (+ filters bias);
 * conv MACs = outH*outW*filters*k*k*inC/groups; dense params = in*out (+ out), MACs = in*out;
 * bn params = 2C (gamma, beta) and buffers = 2C (running mean, variance); pools, activations,
 * adds and concats cost 0. Padding same for conv (out = ceil(in/stride)), pools default to valid.
 * Nothing below was copied from the tool's output: every number is written as its arithmetic.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkSource } from "../../src/check/index.js";
import type { ModelIR } from "../../src/ir/model.js";

function checked(file: string): ModelIR {
  const result = checkSource(readFileSync(file, "utf8"), file);
  expect(result.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  expect(result.ir).not.toBeNull();
  return result.ir!;
}

interface Expected {
  stages: { params: number; buffers: number; macs: number; outShape: number[] }[];
  exits: { params: number; macs: number; cumulativeMacs: number; cumulativeParams: number }[];
}

function assertCosts(ir: ModelIR, expected: Expected): void {
  expect(ir.stages.map((s) => ({ params: s.params, buffers: s.buffers, macs: s.macs, outShape: [...s.outShape] }))).toEqual(expected.stages);
  let cumulative = 0;
  ir.stages.forEach((s, i) => {
    cumulative += expected.stages[i]!.macs;
    expect(s.cumulativeMacs, `stage ${s.name} cumulative MACs`).toBe(cumulative);
  });
  expect(ir.exits.map((e) => ({ params: e.params, macs: e.macs, cumulativeMacs: e.cumulativeMacs, cumulativeParams: e.cumulativeParams }))).toEqual(expected.exits);
  const last = expected.exits[expected.exits.length - 1]!.cumulativeMacs;
  ir.exits.forEach((e, i) => expect(e.fraction).toBeCloseTo(expected.exits[i]!.cumulativeMacs / last, 12));
  const sum = (xs: { params: number }[]) => xs.reduce((a, x) => a + x.params, 0);
  expect(ir.params).toBe(sum(expected.stages) + sum(expected.exits));
  expect(ir.macs).toBe(expected.stages.reduce((a, s) => a + s.macs, 0) + expected.exits.reduce((a, e) => a + e.macs, 0));
}

describe("fashion-3exit (28x28x1, 10 classes)", () => {
  // s1: conv(32, k3) on 28x28x1 (same) -> 28x28x32, bn, maxpool(2) -> 14x14x32
  const s1 = { params: 9 * 1 * 32 + 32 + 2 * 32, buffers: 2 * 32, macs: 28 * 28 * 32 * (9 * 1), outShape: [14, 14, 32] };
  // s2: conv(64, k3) on 14x14x32 -> 14x14x64, bn, maxpool(2) -> 7x7x64
  const s2 = { params: 9 * 32 * 64 + 64 + 2 * 64, buffers: 2 * 64, macs: 14 * 14 * 64 * (9 * 32), outShape: [7, 7, 64] };
  // s3: conv(128, k3) on 7x7x64 -> 7x7x128, bn
  const s3 = { params: 9 * 64 * 128 + 128 + 2 * 128, buffers: 2 * 128, macs: 7 * 7 * 128 * (9 * 64), outShape: [7, 7, 128] };
  // e1: conv(32, k3, stride 2) on 14x14x32 -> ceil(14/2)=7 -> 7x7x32, bn, gap -> [32], dense(10)
  const e1 = { params: 9 * 32 * 32 + 32 + 2 * 32 + (32 * 10 + 10), macs: 7 * 7 * 32 * (9 * 32) + 32 * 10 };
  const e2 = { params: 64 * 10 + 10, macs: 64 * 10 }; // gap -> [64], dense(10)
  const e3 = { params: 128 * 10 + 10, macs: 128 * 10 }; // gap -> [128], dense(10)

  it("matches the hand-computed costs", () => {
    const ir = checked("specs/fashion-3exit.mex");
    assertCosts(ir, {
      stages: [s1, s2, s3],
      exits: [
        { ...e1, cumulativeMacs: s1.macs + e1.macs, cumulativeParams: s1.params + e1.params },
        { ...e2, cumulativeMacs: s1.macs + s2.macs + e2.macs, cumulativeParams: s1.params + s2.params + e2.params },
        { ...e3, cumulativeMacs: s1.macs + s2.macs + s3.macs + e3.macs, cumulativeParams: s1.params + s2.params + s3.params + e3.params },
      ],
    });
  });

  it("matches the literal totals (104,702 parameters; e3 reaches 7,452,416 MACs)", () => {
    const ir = checked("specs/fashion-3exit.mex");
    // 320 + 64 + 18,496 + 128 + 73,856 + 256 + 9,642 + 650 + 1,290
    expect(ir.params).toBe(104_702);
    // 225,792 + 3,612,672 + 3,612,672 + 1,280
    expect(ir.exits[2]!.cumulativeMacs).toBe(7_452_416);
    expect(ir.buffers).toBe(2 * (32 + 64 + 128 + 32));
  });
});

describe("resnet20-cifar (32x32x3, 100 classes, 4 exits)", () => {
  // All convs are bias=false. A basic block is conv3x3 bn relu conv3x3 bn (+ shortcut) relu.
  const conv3 = (hw: number, inC: number, outC: number) => ({ params: 9 * inC * outC, macs: hw * hw * outC * 9 * inC });
  const bn = (c: number) => 2 * c;
  /** Identity block at width c on an hw x hw map. */
  const identityBlock = (hw: number, c: number) => ({
    params: 2 * conv3(hw, c, c).params + 2 * bn(c),
    buffers: 2 * bn(c),
    macs: 2 * conv3(hw, c, c).macs,
  });
  /** Downsampling block inC -> outC, stride 2 to an hw x hw map; auto projection = 1x1 conv stride 2 (no bias) + bn. */
  const downBlock = (hw: number, inC: number, outC: number) => ({
    params: conv3(hw, inC, outC).params + conv3(hw, outC, outC).params + 2 * bn(outC) + inC * outC + bn(outC),
    buffers: 3 * bn(outC),
    macs: conv3(hw, inC, outC).macs + conv3(hw, outC, outC).macs + hw * hw * outC * inC,
  });

  // s1: stem conv(16) on 32x32x3 + bn, then 3 identity blocks at 32x32x16
  const b16 = identityBlock(32, 16); // params 2*2304 + 64 = 4,672; MACs 2*2,359,296
  const s1 = { params: 9 * 3 * 16 + bn(16) + 3 * b16.params, buffers: bn(16) + 3 * b16.buffers, macs: 32 * 32 * 16 * 27 + 3 * b16.macs, outShape: [32, 32, 16] };
  // s2: down block 16 -> 32 at 16x16, then 2 identity blocks at 16x16x32
  const d32 = downBlock(16, 16, 32);
  const b32 = identityBlock(16, 32);
  const s2 = { params: d32.params + 2 * b32.params, buffers: d32.buffers + 2 * b32.buffers, macs: d32.macs + 2 * b32.macs, outShape: [16, 16, 32] };
  // s3: down block 32 -> 64 at 8x8, then 1 identity block at 8x8x64
  const d64 = downBlock(8, 32, 64);
  const b64 = identityBlock(8, 64);
  const s3 = { params: d64.params + b64.params, buffers: d64.buffers + b64.buffers, macs: d64.macs + b64.macs, outShape: [8, 8, 64] };
  // s4: 1 identity block at 8x8x64
  const s4 = { ...b64, outShape: [8, 8, 64] };
  // e1: conv(32, k3, stride 2, no bias) on 32x32x16 -> 16x16x32, bn, gap -> [32], dense(100)
  const e1 = { params: 9 * 16 * 32 + bn(32) + 32 * 100 + 100, macs: 16 * 16 * 32 * 9 * 16 + 32 * 100 };
  const e2 = { params: 32 * 100 + 100, macs: 32 * 100 };
  const e3 = { params: 64 * 100 + 100, macs: 64 * 100 };
  const e4 = { params: 64 * 100 + 100, macs: 64 * 100 };

  it("matches the hand-computed costs", () => {
    const ir = checked("specs/resnet20-cifar.mex");
    const stages = [s1, s2, s3, s4];
    const upTo = (i: number, key: "params" | "macs") => stages.slice(0, i + 1).reduce((a, s) => a + s[key], 0);
    assertCosts(ir, {
      stages,
      exits: [e1, e2, e3, e4].map((e, i) => ({ ...e, cumulativeMacs: upTo(i, "macs") + e.macs, cumulativeParams: upTo(i, "params") + e.params })),
    });
  });

  it("matches the literal figures", () => {
    const ir = checked("specs/resnet20-cifar.mex");
    // s1: 432 + 32 + 3 * (2*2,304 + 2*32) = 14,480
    expect(ir.stages[0]!.params).toBe(14_480);
    // s2 down block: 4,608 + 9,216 + 2*64 + 512 (projection) + 64 = 14,528; two identity blocks of 18,560
    expect(ir.stages[1]!.params).toBe(14_528 + 2 * 18_560);
    // s1 MACs: 442,368 + 3 * 4,718,592 = 14,598,144; e1 adds 1,179,648 + 3,200
    expect(ir.exits[0]!.cumulativeMacs).toBe(15_780_992);
    // e4: 14,598,144 + 13,107,200 + 8,388,608 + 4,718,592 + 6,400
    expect(ir.exits[3]!.cumulativeMacs).toBe(40_818_944);
    // Residual structure: identity shortcuts except the two downsampling blocks (projection).
    const kinds = ir.stages.flatMap((s) => s.nodes.filter((n) => n.kind === "residual").map((n) => (n.kind === "residual" ? n.shortcutKind : "")));
    expect(kinds).toEqual(["identity", "identity", "identity", "projection", "identity", "identity", "projection", "identity", "identity"]);
  });
});

describe("quickstart (16x16x1, 4 classes)", () => {
  const s1 = { params: 9 * 1 * 8 + 8 + 2 * 8, buffers: 2 * 8, macs: 16 * 16 * 8 * 9, outShape: [8, 8, 8] };
  const s2 = { params: 9 * 8 * 16 + 16 + 2 * 16, buffers: 2 * 16, macs: 8 * 8 * 16 * (9 * 8), outShape: [4, 4, 16] };
  const s3 = { params: 9 * 16 * 32 + 32 + 2 * 32, buffers: 2 * 32, macs: 4 * 4 * 32 * (9 * 16), outShape: [2, 2, 32] };
  // e1: conv(8, k3, stride 2) on 8x8x8 -> 4x4x8, bn, gap -> [8], dense(4)
  const e1 = { params: 9 * 8 * 8 + 8 + 2 * 8 + (8 * 4 + 4), macs: 4 * 4 * 8 * (9 * 8) + 8 * 4 };
  const e2 = { params: 16 * 4 + 4, macs: 16 * 4 };
  const e3 = { params: 32 * 4 + 4, macs: 32 * 4 };
  it("matches the hand-computed costs", () => {
    const stages = [s1, s2, s3];
    const upTo = (i: number, key: "params" | "macs") => stages.slice(0, i + 1).reduce((a, s) => a + s[key], 0);
    assertCosts(checked("specs/quickstart.mex"), {
      stages,
      exits: [e1, e2, e3].map((e, i) => ({ ...e, cumulativeMacs: upTo(i, "macs") + e.macs, cumulativeParams: upTo(i, "params") + e.params })),
    });
  });
});

describe("densenet-small (concat blocks)", () => {
  // Dense layer on hw x hw x c: bn(c) relu conv(12, k3, no bias) -> appends 12 channels.
  const denseLayer = (hw: number, c: number) => ({ params: 2 * c + 9 * c * 12, buffers: 2 * c, macs: hw * hw * 12 * 9 * c });
  const add = (...xs: { params: number; buffers: number; macs: number }[]) => xs.reduce((a, x) => ({ params: a.params + x.params, buffers: a.buffers + x.buffers, macs: a.macs + x.macs }), { params: 0, buffers: 0, macs: 0 });
  // Transition on hw x hw x c: bn(c) relu conv(out, k1, no bias) avgpool(2).
  const transition = (hw: number, c: number, out: number) => ({ params: 2 * c + c * out, buffers: 2 * c, macs: hw * hw * out * c });
  // s1: stem conv(24) on 32x32x3, dense layers at 24 and 36 channels, transition 48 -> 24
  const s1 = { ...add({ params: 9 * 3 * 24, buffers: 0, macs: 32 * 32 * 24 * 27 }, denseLayer(32, 24), denseLayer(32, 36), transition(32, 48, 24)), outShape: [16, 16, 24] };
  // s2: 4 dense layers at 24, 36, 48, 60 channels on 16x16, transition 72 -> 36
  const s2 = { ...add(denseLayer(16, 24), denseLayer(16, 36), denseLayer(16, 48), denseLayer(16, 60), transition(16, 72, 36)), outShape: [8, 8, 36] };
  // s3: 8 dense layers at 36, 48, ..., 120 channels on 8x8, then bn(132) relu
  const s3layers = [36, 48, 60, 72, 84, 96, 108, 120].map((c) => denseLayer(8, c));
  const s3 = { ...add(...s3layers, { params: 2 * 132, buffers: 2 * 132, macs: 0 }), outShape: [8, 8, 132] };
  const e1 = { params: 2 * 24 + 24 * 10 + 10, macs: 24 * 10 }; // bn relu gap dense
  const e2 = { params: 2 * 36 + 36 * 10 + 10, macs: 36 * 10 };
  const e3 = { params: 132 * 10 + 10, macs: 132 * 10 };
  it("matches the hand-computed costs", () => {
    const stages = [s1, s2, s3];
    const upTo = (i: number, key: "params" | "macs") => stages.slice(0, i + 1).reduce((a, s) => a + s[key], 0);
    assertCosts(checked("specs/densenet-small.mex"), {
      stages,
      exits: [e1, e2, e3].map((e, i) => ({ ...e, cumulativeMacs: upTo(i, "macs") + e.macs, cumulativeParams: upTo(i, "params") + e.params })),
    });
  });
});

describe("mlp (vector residuals with a dense projection)", () => {
  const s1 = { params: 64 * 128 + 128, buffers: 0, macs: 64 * 128, outShape: [128] };
  const s2 = { params: 2 * (128 * 128 + 128), buffers: 0, macs: 2 * 128 * 128, outShape: [128] };
  // residual body 128 -> 64 -> 64; automatic projection: dense(64) without bias on the 128-vector
  const s3 = { params: 128 * 64 + 64 + (64 * 64 + 64) + 128 * 64, buffers: 0, macs: 128 * 64 + 64 * 64 + 128 * 64, outShape: [64] };
  const e12 = { params: 128 * 10 + 10, macs: 128 * 10 };
  const e3 = { params: 64 * 10 + 10, macs: 64 * 10 };
  it("matches the hand-computed costs", () => {
    const stages = [s1, s2, s3];
    const upTo = (i: number, key: "params" | "macs") => stages.slice(0, i + 1).reduce((a, s) => a + s[key], 0);
    assertCosts(checked("specs/mlp.mex"), {
      stages,
      exits: [e12, e12, e3].map((e, i) => ({ ...e, cumulativeMacs: upTo(i, "macs") + e.macs, cumulativeParams: upTo(i, "params") + e.params })),
    });
  });
});

describe("mobilenet-small (depthwise)", () => {
  it("counts a depthwise conv as k*k*C parameters and hw*C*k*k MACs", () => {
    const ir = checked("specs/mobilenet-small.mex");
    // s1: conv(32) on 32x32x3; dw 3x3 on 32 ch; pw 32->64; dw 3x3 stride 2 on 64 ch (-> 16x16); pw 64->64
    const s1 = 9 * 3 * 32 + 2 * 32 + (9 * 32 + 2 * 32) + (32 * 64 + 2 * 64) + (9 * 64 + 2 * 64) + (64 * 64 + 2 * 64);
    const s1macs = 32 * 32 * 32 * 27 + 32 * 32 * 32 * 9 + 32 * 32 * 64 * 32 + 16 * 16 * 64 * 9 + 16 * 16 * 64 * 64;
    expect(ir.stages[0]!.params).toBe(s1);
    expect(ir.stages[0]!.macs).toBe(s1macs);
    // s2: dw on 64 (16x16), pw 64->128, conv(128, groups=depthwise, stride 2) on 128 (-> 8x8), pw 128->128
    const s2 = 9 * 64 + 2 * 64 + (64 * 128 + 2 * 128) + (9 * 128 + 2 * 128) + (128 * 128 + 2 * 128);
    const s2macs = 16 * 16 * 64 * 9 + 16 * 16 * 128 * 64 + 8 * 8 * 128 * 9 + 8 * 8 * 128 * 128;
    expect(ir.stages[1]!.params).toBe(s2);
    expect(ir.stages[1]!.macs).toBe(s2macs);
  });
});
