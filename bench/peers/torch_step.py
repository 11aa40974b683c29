#!/usr/bin/env python3
"""PyTorch peer of mex's training step, for `npm run bench` (bench/train-step.ts).

Builds the SAME multi-exit network as src/backends/tfjs/build.ts from the checked IR that the
TypeScript side exports (bench/train-step.ts: peerIR), and times one training step exactly like
src/train/trainer.ts's trainStep:

  forward (train mode) -> multi-exit loss (CE per exit + distillation, src/train/loss.ts)
  -> backward -> optimizer step (torch.optim SGD/Adam: mex restates their semantics)
  -> sum |w| read back (the trainer's overflow check) and the loss scalars read back.

Architecture fidelity:
  - conv/pool 'same' padding follows TensorFlow: total = max((ceil(n/s)-1)*s + (k-1)*d + 1 - n, 0),
    before = total // 2, after = the rest (asymmetric when total is odd), applied with F.pad.
    Max pools pad with -inf; average pools divide by the count of real (unpadded) elements.
  - flatten reads NHWC order (as tfjs does), so a dense layer after it sees the same features.
  - the trainable parameter and batch-norm buffer counts are checked against the IR's
    `params` / `buffers` (the run fails when they differ: the architecture is not the same).
Weights use PyTorch's default initialisation (timing does not depend on the values).

Usage: /usr/bin/python3 bench/peers/torch_step.py IR.json --batch 64 --threads 1,2 --warmup 2 --steps 10
Prints one JSON object: {"torch": version, "params": n, "buffers": n, "results": [{"threads": t,
"stepMs": median, "samplesMs": [...]}]}. Without torch: {"torch": null, "error": "..."} (exit code 0).
"""
import argparse
import json
import math
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # Debian's python3-torch is optional
    print(json.dumps({"torch": None, "error": f"torch is not importable ({e})"}))
    sys.exit(0)


def same_pads(n, k, s, d):
    """TensorFlow's (before, after) padding of one spatial axis for padding='same'."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def spatial_pads(node, kernel, stride, dilation):
    """(left, right, top, bottom) for F.pad from an IR node with NHWC inShape."""
    if node["args"]["padding"] != "same":
        return (0, 0, 0, 0)
    h, w = node["inShape"][0], node["inShape"][1]
    top, bottom = same_pads(h, kernel[0], stride[0], dilation[0])
    left, right = same_pads(w, kernel[1], stride[1], dilation[1])
    return (left, right, top, bottom)


class Conv(nn.Module):
    def __init__(self, node):
        super().__init__()
        a = node["args"]
        in_c = node["inShape"][-1]
        self.pads = spatial_pads(node, a["kernel"], a["stride"], a["dilation"])
        symmetric = self.pads[0] == self.pads[1] and self.pads[2] == self.pads[3]
        # Symmetric padding goes into the conv itself (no extra copy); odd totals need F.pad.
        inner = (self.pads[2], self.pads[0]) if symmetric else (0, 0)
        self.outer = None if symmetric else self.pads
        self.conv = nn.Conv2d(in_c, a["filters"], tuple(a["kernel"]), stride=tuple(a["stride"]), padding=inner,
                              dilation=tuple(a["dilation"]), groups=a["groups"], bias=a["bias"])

    def forward(self, x):
        if self.outer is not None:
            x = F.pad(x, self.outer)
        return self.conv(x)


class Pool(nn.Module):
    def __init__(self, node, kind):
        super().__init__()
        a = node["args"]
        self.kind = kind
        self.size = tuple(a["size"])
        self.stride = tuple(a["stride"])
        self.pads = spatial_pads(node, a["size"], a["stride"], (1, 1))

    def forward(self, x):
        padded = any(self.pads)
        if self.kind == "max":
            if padded:
                x = F.pad(x, self.pads, value=float("-inf"))
            return F.max_pool2d(x, self.size, self.stride)
        if not padded:
            return F.avg_pool2d(x, self.size, self.stride)
        # TF's average over the real elements only: sum of padded input / count of real elements.
        ones = torch.ones_like(x[:1, :1])
        total = F.avg_pool2d(F.pad(x, self.pads), self.size, self.stride)
        count = F.avg_pool2d(F.pad(ones, self.pads), self.size, self.stride)
        return total / count


class FlattenNHWC(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1) if x.dim() == 4 else x.flatten(1)


class GlobalAvgPool(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


class Residual(nn.Module):
    def __init__(self, node):
        super().__init__()
        self.body = build_seq(node["body"])
        self.shortcut = build_seq(node["shortcut"])

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class Concat(nn.Module):
    def __init__(self, node):
        super().__init__()
        self.body = build_seq(node["body"])

    def forward(self, x):
        return torch.cat([x, self.body(x)], dim=1)


def build_op(node):
    op, a = node["op"], node["args"]
    if op == "conv":
        return Conv(node)
    if op == "dense":
        return nn.Linear(node["inShape"][-1], a["units"], bias=a["bias"])
    if op == "bn":
        # IR momentum is already PyTorch's convention.
        return nn.BatchNorm2d(node["inShape"][-1], eps=a["epsilon"], momentum=a["momentum"]) if len(node["inShape"]) == 3 \
            else nn.BatchNorm1d(node["inShape"][-1], eps=a["epsilon"], momentum=a["momentum"])
    if op == "relu":
        return nn.ReLU()
    if op == "relu6":
        return nn.ReLU6()
    if op == "gelu":
        return nn.GELU()  # erf form, as mex's Gelu layer
    if op == "sigmoid":
        return nn.Sigmoid()
    if op == "tanh":
        return nn.Tanh()
    if op == "maxpool":
        return Pool(node, "max")
    if op == "avgpool":
        return Pool(node, "avg")
    if op == "gap":
        return GlobalAvgPool()
    if op == "flatten":
        return FlattenNHWC()
    if op == "dropout":
        return nn.Dropout(a["rate"])
    raise ValueError(f"torch_step.py: unsupported op '{op}' at {node['name']}")


def build_node(node):
    if node["kind"] == "op":
        module = build_op(node)
    elif node["kind"] == "residual":
        module = Residual(node)
    elif node["kind"] == "concat":
        module = Concat(node)
    else:
        raise ValueError(f"torch_step.py: unknown node kind '{node['kind']}' at {node['name']}")
    module.mex_node = (node["name"], node["outShape"])  # checked by shape_mismatches()
    return module


def shape_mismatches(model, input_shape):
    """Run 2 examples and compare every node's output shape (as NHWC) with the IR's outShape."""
    found = []

    def hook(module, _inputs, output):
        name, expected = module.mex_node
        shape = list(output.shape[1:])
        actual = shape[1:] + shape[:1] if len(shape) == 3 else shape
        if actual != list(expected):
            found.append(f"{name}: torch {actual}, IR {expected}")

    handles = [m.register_forward_hook(hook) for m in model.modules() if hasattr(m, "mex_node")]
    x = torch.zeros(2, *input_shape)
    with torch.no_grad():
        model.eval()
        model(x.permute(0, 3, 1, 2) if x.dim() == 4 else x)
    for h in handles:
        h.remove()
    return found


def build_seq(nodes):
    return nn.Sequential(*[build_node(n) for n in nodes])


class MultiExit(nn.Module):
    def __init__(self, ir):
        super().__init__()
        self.stages = nn.ModuleList([build_seq(s["nodes"]) for s in ir["stages"]])
        self.heads = nn.ModuleList([build_seq(e["head"]) for e in ir["exits"]])
        self.attach = [e["stageIndex"] for e in ir["exits"]]

    def forward(self, x):
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return [head(features[i]) for head, i in zip(self.heads, self.attach)]


def multi_exit_loss(logits, labels, loss):
    """src/train/loss.ts multiExitLoss (+ the baseline's scale), teachers detached."""
    teachers, c, tau = loss["teachers"], loss["weight"], loss["temperature"]
    m_exits = len(logits)
    labeled = labels >= 0
    count = max(int(labeled.sum()), 1)
    cls = sum(F.cross_entropy(z[labeled], labels[labeled], reduction="sum") for z in logits) / (count * m_exits)
    dist = logits[0].new_zeros(())
    soft = {}
    for m, tset in enumerate(teachers):
        if not tset:
            continue
        for t in tset:
            if t not in soft:
                soft[t] = F.softmax(logits[t].detach() / tau, dim=1)
        target = sum(soft[t] for t in tset) / len(tset)
        dist = dist - (target * F.log_softmax(logits[m] / tau, dim=1)).sum()
    dist = dist * (tau * tau) / (logits[0].shape[0] * m_exits)
    total = 2 * ((1 - c) * cls + c * dist)
    return total * loss["scale"], cls, dist


def confidence(logits, union, tau):
    """Algorithm 1's teacher confidence (the trainer computes it when the temperature is adaptive)."""
    with torch.no_grad():
        mean = sum(F.softmax(logits[t] / tau, dim=1) for t in union) / len(union)
        return mean.max(dim=1).values.mean()


def make_optimizer(params, opt):
    if opt["kind"] == "sgd":
        return torch.optim.SGD(params, lr=opt["lr"], momentum=opt["momentum"], nesterov=opt["nesterov"],
                               weight_decay=opt["weightDecay"])
    if opt["kind"] == "adam":
        return torch.optim.Adam(params, lr=opt["lr"], betas=(opt["beta1"], opt["beta2"]), eps=opt["epsilon"],
                                weight_decay=opt["weightDecay"])
    raise ValueError(f"torch_step.py: unknown optimizer '{opt['kind']}'")


def step(model, optimizer, images_nhwc, labels, loss):
    # The trainer's NHWC batch -> NCHW (vector inputs stay as they are).
    x = images_nhwc.permute(0, 3, 1, 2).contiguous() if images_nhwc.dim() == 4 else images_nhwc
    logits = model(x)
    total, cls, dist = multi_exit_loss(logits, labels, loss)
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    scalars = [total.detach(), cls.detach(), dist.detach()]
    if loss["confidenceOver"]:
        scalars.append(confidence(logits, loss["confidenceOver"], loss["temperature"]))
    with torch.no_grad():
        scalars.append(sum(p.abs().sum() for p in model.parameters()))
        return torch.stack(scalars).tolist()  # one read-back, like the trainer's dataSync


def count(model):
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked"))
    return params, buffers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ir")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    with open(args.ir) as f:
        ir = json.load(f)
    torch.manual_seed(0)
    model = MultiExit(ir)
    params, buffers = count(model)
    if params != ir["params"] or buffers != ir["buffers"]:
        print(json.dumps({"torch": torch.__version__, "error": f"architecture differs from the IR: params {params} vs {ir['params']}, buffers {buffers} vs {ir['buffers']}"}))
        sys.exit(1)
    mismatches = shape_mismatches(model, ir["input"])
    if mismatches:
        print(json.dumps({"torch": torch.__version__, "error": "layer output shapes differ from the IR: " + "; ".join(mismatches[:5])}))
        sys.exit(1)
    model.train()
    optimizer = make_optimizer(model.parameters(), ir["optimizer"])
    gen = torch.Generator().manual_seed(1)
    images = torch.randn(args.batch, *ir["input"], generator=gen)
    labels = torch.randint(0, ir["classes"], (args.batch,), generator=gen)
    results = []
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        for _ in range(args.warmup):
            step(model, optimizer, images, labels, ir["loss"])
        samples = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            values = step(model, optimizer, images, labels, ir["loss"])
            samples.append((time.perf_counter() - t0) * 1000)
            if not all(math.isfinite(v) for v in values):
                print(json.dumps({"torch": torch.__version__, "error": f"non-finite loss or weights: {values}"}))
                sys.exit(1)
        results.append({"threads": threads, "stepMs": statistics.median(samples), "samplesMs": samples})
    print(json.dumps({"torch": torch.__version__, "params": params, "buffers": buffers, "results": results}))


if __name__ == "__main__":
    main()
