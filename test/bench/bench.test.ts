// Smoke test of the IR export that bench/peers/torch_step.py reads (the benchmark itself is not run here).
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { averageGradients, checkSpecFile, peerIR, type PeerIR, type PeerNode } from "../../bench/train-step.js";

const PEER_SOURCE = readFileSync("bench/peers/torch_step.py", "utf8");

/** Keys the peer reads as `<variable>["key"]`. */
function keysRead(variable: string): string[] {
  const found = [...PEER_SOURCE.matchAll(new RegExp(`\\b${variable}\\["(\\w+)"\\]`, "g"))].map((m) => m[1]!);
  return [...new Set(found)];
}

function* nodes(list: readonly PeerNode[]): Generator<PeerNode> {
  for (const n of list) {
    yield n;
    yield* nodes(n.body ?? []);
    yield* nodes(n.shortcut ?? []);
  }
}

function allNodes(ir: PeerIR): PeerNode[] {
  return [...ir.stages.flatMap((s) => [...nodes(s.nodes)]), ...ir.exits.flatMap((e) => [...nodes(e.head)])];
}

describe("peerIR (the JSON the PyTorch peer builds its network from)", () => {
  const fashion = peerIR(checkSpecFile("specs/fashion-3exit.mex"));

  it("survives a JSON round trip unchanged", () => {
    expect(JSON.parse(JSON.stringify(fashion))).toEqual(fashion);
  });

  it("carries fashion-3exit's architecture, counts, loss and optimizer", () => {
    expect(fashion.input).toEqual([28, 28, 1]);
    expect(fashion.classes).toBe(10);
    // Hand count: convs 320 + 18496 + 73856 + 9248, bn gammas/betas 2*(32+64+128+32) = 512,
    // dense 330 + 650 + 1290 -> 104702; bn running mean/var 2*(32+64+128+32) = 512.
    expect(fashion.params).toBe(104702);
    expect(fashion.buffers).toBe(512);
    expect(fashion.stages.map((s) => s.nodes.map((n) => n.op))).toEqual([
      ["conv", "bn", "relu", "maxpool"],
      ["conv", "bn", "relu", "maxpool"],
      ["conv", "bn", "relu"],
    ]);
    expect(fashion.stages[0]!.nodes[0]).toMatchObject({
      inShape: [28, 28, 1],
      outShape: [28, 28, 32],
      args: { filters: 32, kernel: [3, 3], stride: [1, 1], padding: "same", dilation: [1, 1], groups: 1, bias: true },
    });
    expect(fashion.exits.map((e) => e.stageIndex)).toEqual([0, 1, 2]);
    expect(fashion.exits[0]!.head[0]!.args).toMatchObject({ filters: 32, stride: [2, 2], padding: "same" });
    // teachers: last, C = 0.5, adaptive tau starting at 1 (so the confidence of exit 3 is computed).
    expect(fashion.loss).toEqual({ teachers: [[2], [2], []], weight: 0.5, temperature: 1, scale: 1, confidenceOver: [2] });
    expect(fashion.optimizer).toEqual({ kind: "sgd", lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  });

  it("keeps residual shortcuts (resnet20's projection) and 'later' teacher sets", () => {
    const resnet = peerIR(checkSpecFile("specs/resnet20-cifar.mex"));
    const downsample = resnet.stages[1]!.nodes[0]!;
    expect(downsample.kind).toBe("residual");
    expect(downsample.shortcut!.map((n) => n.op)).toEqual(["conv", "bn"]);
    expect(downsample.shortcut![0]!.args).toMatchObject({ filters: 32, kernel: [1, 1], stride: [2, 2], bias: false });
    expect(resnet.loss.teachers).toEqual([[1, 2, 3], [2, 3], [3], []]);
  });

  it("has every key the peer script reads", () => {
    // All shipped specs together use every op argument the peer reads (dropout's rate: mlp).
    const specs = readdirSync("specs")
      .filter((f) => f.endsWith(".mex"))
      .map((f) => peerIR(checkSpecFile(`specs/${f}`)));
    const every = specs.flatMap(allNodes);
    const has = (objects: readonly object[], key: string) => objects.some((o) => key in o);
    for (const key of keysRead("ir")) expect(has(specs, key), `ir["${key}"]`).toBe(true);
    for (const key of keysRead("node")) expect(has(every, key), `node["${key}"]`).toBe(true);
    for (const key of keysRead("a")) expect(has(every.map((n) => (n.args ?? {}) as object), key), `args["${key}"]`).toBe(true);
    for (const key of keysRead("loss")) expect(has(specs.map((s) => s.loss), key), `loss["${key}"]`).toBe(true);
    // quickstart uses adam, the others sgd: together they cover both optimizers' fields.
    for (const key of keysRead("opt")) expect(has(specs.map((s) => s.optimizer), key), `opt["${key}"]`).toBe(true);
    expect(keysRead("node").length).toBeGreaterThan(3);
  });
});

describe("averageGradients (the data-parallel prototype's reduction)", () => {
  it("is the element-wise mean over replicas", () => {
    const mean = averageGradients([
      [Float32Array.of(1, 2), Float32Array.of(10)],
      [Float32Array.of(3, 6), Float32Array.of(-4)],
    ]);
    expect(mean.map((g) => [...g])).toEqual([[2, 4], [3]]);
  });
});
