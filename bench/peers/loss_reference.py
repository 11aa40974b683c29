#!/usr/bin/env python3
"""Independent reference for src/train/loss.ts and src/train/optimizer.ts.

Plain Python (math module only) restatement of the multi-exit distillation objective of
Phuong & Lampert (ICCV 2019) as mex defines it (../shared/METHOD.md):

    classification = (1/M) sum_m CE_m,  CE_m = mean over labeled n of -log softmax(z_m[n])[y_n]
    distillation   = (1/N) sum_n (1/M) sum_m (1/|T(m)|) sum_{t in T(m)} l_tau(p_t, p_m)
    l_tau(t, s)    = -tau^2 sum_k softmax(z_t/tau)_k log softmax(z_s/tau)_k
    total          = 2 * ((1 - C) * classification + C * distillation)

Gradients are derived by hand (teacher probabilities are constants):
    d classification / d z_m[n] = (softmax(z_m[n]) - onehot(y_n)) / (M * L)   for labeled n, else 0
    d distillation   / d z_m[n] = tau * (softmax(z_m[n]/tau) - mean_t softmax(z_t[n]/tau)) / (N * M)

It also restates PyTorch's SGD (momentum, dampening 0, optional Nesterov, coupled weight decay)
and Adam (bias-corrected, weight decay added to the gradient) on a tiny quadratic.

If torch is importable, every number is re-derived with autograd / torch.optim and the largest
absolute difference is reported under "torch" (the run fails if it exceeds 1e-9 in float64).

Usage: python3 bench/peers/loss_reference.py        -> JSON on stdout
"""
import json
import math
import sys

# 3 exits, batch 4, 5 classes: LOGITS[m][n][k].
LOGITS = [
    [[1.0, -0.5, 0.3, 2.0, -1.2], [0.1, 0.4, -0.7, 0.0, 1.5], [-1.0, 2.2, 0.5, -0.3, 0.8], [0.6, -1.1, 1.9, 0.2, -0.4]],
    [[0.2, 1.3, -0.6, 0.9, 0.0], [-0.8, 0.7, 1.1, -1.5, 0.3], [2.0, -0.2, 0.4, 1.0, -0.9], [-0.3, 0.5, 0.0, 1.4, 2.1]],
    [[-0.4, 0.8, 1.6, 2.5, -0.7], [1.2, -0.9, 0.3, 0.6, 2.4], [3.0, 0.1, -1.3, 0.7, 0.2], [0.0, -0.6, 1.0, -0.2, 1.7]],
]
LABELS = [3, -1, 0, 4]
UNLABELED = [-1, -1, -1, -1]
TEACHERS = {"last": [[2], [2], []], "later": [[1, 2], [2], []]}

LOSS_CASES = [
    {"teachers": t, "tau": tau, "weight": c, "labels": "mixed"}
    for t in ("last", "later")
    for tau in (1.0, 3.0)
    for c in (0.5, 0.3)
] + [
    {"teachers": "last", "tau": 3.0, "weight": 0.5, "labels": "unlabeled"},
    {"teachers": "later", "tau": 1.0, "weight": 1.0, "labels": "mixed"},
]
GRAD_CASE = {"teachers": "later", "tau": 3.0, "weight": 0.3, "labels": "mixed"}


def softmax(z, tau=1.0):
    mx = max(z)
    e = [math.exp((v - mx) / tau) for v in z]
    s = sum(e)
    return [v / s for v in e]


def log_softmax(z, tau=1.0):
    zs = [v / tau for v in z]
    mx = max(zs)
    lse = mx + math.log(sum(math.exp(v - mx) for v in zs))
    return [v - lse for v in zs]


def labels_of(case):
    return LABELS if case["labels"] == "mixed" else UNLABELED


def teacher_mean(teachers, n, tau):
    """mean over t in teachers of softmax(z_t[n] / tau)."""
    K = len(LOGITS[0][0])
    acc = [0.0] * K
    for t in teachers:
        p = softmax(LOGITS[t][n], tau)
        acc = [a + b for a, b in zip(acc, p)]
    return [a / len(teachers) for a in acc]


def loss(case):
    labels, teachers = labels_of(case), TEACHERS[case["teachers"]]
    tau, C = case["tau"], case["weight"]
    M, N = len(LOGITS), len(labels)
    labeled = [n for n in range(N) if labels[n] >= 0]
    cls = 0.0
    for m in range(M):
        if labeled:
            cls += sum(-log_softmax(LOGITS[m][n])[labels[n]] for n in labeled) / len(labeled)
    cls /= M
    dist = 0.0
    for n in range(N):
        per_example = 0.0
        for m in range(M):
            if not teachers[m]:
                continue
            q = teacher_mean(teachers[m], n, tau)
            ls = log_softmax(LOGITS[m][n], tau)
            per_example += -tau * tau * sum(a * b for a, b in zip(q, ls))
        dist += per_example / M
    dist /= N
    return {"classification": cls, "distillation": dist, "total": 2 * ((1 - C) * cls + C * dist)}


def grads(case):
    labels, teachers = labels_of(case), TEACHERS[case["teachers"]]
    tau, C = case["tau"], case["weight"]
    M, N, K = len(LOGITS), len(labels), len(LOGITS[0][0])
    L = sum(1 for y in labels if y >= 0)
    out = []
    for m in range(M):
        gm = []
        for n in range(N):
            g = [0.0] * K
            if labels[n] >= 0:
                p = softmax(LOGITS[m][n])
                for k in range(K):
                    g[k] += 2 * (1 - C) * (p[k] - (1.0 if k == labels[n] else 0.0)) / (M * L)
            if teachers[m]:
                q = teacher_mean(teachers[m], n, tau)
                s = softmax(LOGITS[m][n], tau)
                for k in range(K):
                    g[k] += 2 * C * tau * (s[k] - q[k]) / (N * M)
            gm.append(g)
        out.append(gm)
    return out


# ---- optimizers on f(w) = 0.5 * sum a_i (w_i - b_i)^2 ------------------------------------
W0 = [1.0, -2.0, 0.5, 3.0]
A = [1.0, 3.0, 0.5, 2.0]
B = [0.2, 0.1, -1.0, 0.0]
OPT_CASES = {
    "sgd_nesterov": {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "weightDecay": 1e-4},
    "sgd_momentum": {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": False, "weightDecay": 1e-4},
    "adam": {"kind": "adam", "lr": 0.1, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weightDecay": 1e-4},
}


def quad_grad(w):
    return [a * (x - b) for x, a, b in zip(w, A, B)]


def run_optimizer(cfg, steps):
    w = list(W0)
    buf = None
    m1 = [0.0] * len(w)
    m2 = [0.0] * len(w)
    trace = []
    for t in range(1, steps + 1):
        g = [gi + cfg["weightDecay"] * wi for gi, wi in zip(quad_grad(w), w)]
        if cfg["kind"] == "sgd":
            mom = cfg["momentum"]
            buf = list(g) if buf is None else [mom * b + gi for b, gi in zip(buf, g)]
            upd = [gi + mom * b for gi, b in zip(g, buf)] if cfg["nesterov"] else buf
            w = [wi - cfg["lr"] * u for wi, u in zip(w, upd)]
        else:
            b1, b2, eps = cfg["beta1"], cfg["beta2"], cfg["epsilon"]
            m1 = [b1 * a + (1 - b1) * gi for a, gi in zip(m1, g)]
            m2 = [b2 * a + (1 - b2) * gi * gi for a, gi in zip(m2, g)]
            bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
            step = cfg["lr"] / bc1
            w = [wi - step * a / (math.sqrt(v) / math.sqrt(bc2) + eps) for wi, a, v in zip(w, m1, m2)]
        trace.append(list(w))
    return trace


# ---- torch cross-check ---------------------------------------------------------------------
def torch_check(result):
    try:
        import torch
    except Exception:  # torch absent: the plain-Python numbers stand alone
        return None
    torch.set_default_dtype(torch.float64)
    worst = 0.0

    def torch_loss(case):
        labels = torch.tensor(labels_of(case))
        teachers = TEACHERS[case["teachers"]]
        tau, C = case["tau"], case["weight"]
        z = [torch.tensor(LOGITS[m], requires_grad=True) for m in range(len(LOGITS))]
        M = len(z)
        mask = labels >= 0
        cls = torch.zeros(())
        for m in range(M):
            if mask.any():
                cls = cls + torch.nn.functional.cross_entropy(z[m], labels, ignore_index=-1)
        cls = cls / M
        dist = torch.zeros(())
        for m in range(M):
            if not teachers[m]:
                continue
            q = sum(torch.softmax(z[t] / tau, dim=1).detach() for t in teachers[m]) / len(teachers[m])
            dist = dist + (-tau * tau * (q * torch.log_softmax(z[m] / tau, dim=1)).sum(dim=1)).mean()
        dist = dist / M
        total = 2 * ((1 - C) * cls + C * dist)
        total.backward()
        return cls.item(), dist.item(), total.item(), [(zi.grad if zi.grad is not None else torch.zeros_like(zi)).tolist() for zi in z]

    for case, got in zip(LOSS_CASES, result["loss"]):
        c, d, t, _ = torch_loss(case)
        worst = max(worst, abs(c - got["classification"]), abs(d - got["distillation"]), abs(t - got["total"]))
    _, _, _, g = torch_loss(GRAD_CASE)
    for gm, rm in zip(g, result["grad"]["grads"]):
        for gn, rn in zip(gm, rm):
            for a, b in zip(gn, rn):
                worst = max(worst, abs(a - b))

    for name, cfg in OPT_CASES.items():
        w = torch.tensor(W0, requires_grad=True)
        if cfg["kind"] == "sgd":
            opt = torch.optim.SGD([w], lr=cfg["lr"], momentum=cfg["momentum"], nesterov=cfg["nesterov"],
                                  weight_decay=cfg["weightDecay"])
        else:
            opt = torch.optim.Adam([w], lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["epsilon"],
                                   weight_decay=cfg["weightDecay"])
        a, b = torch.tensor(A), torch.tensor(B)
        for step, ref in enumerate(result["optimizer"][name]):
            opt.zero_grad()
            (0.5 * (a * (w - b) ** 2).sum()).backward()
            opt.step()
            worst = max(worst, max(abs(x - y) for x, y in zip(w.tolist(), ref)))
    return {"version": torch.__version__, "maxAbsDiff": worst}


def main():
    result = {
        "logits": LOGITS,
        "labels": LABELS,
        "loss": [dict(case, **loss(case)) for case in LOSS_CASES],
        "grad": dict(GRAD_CASE, grads=grads(GRAD_CASE)),
        "optimizer": {name: run_optimizer(cfg, 3) for name, cfg in OPT_CASES.items()},
    }
    result["torch"] = torch_check(result)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    if result["torch"] is not None and result["torch"]["maxAbsDiff"] > 1e-9:
        sys.stderr.write("torch disagrees with the plain-Python reference: %g\n" % result["torch"]["maxAbsDiff"])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
