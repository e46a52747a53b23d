#!/usr/bin/env python3
"""Golden values of Muon from PyTorch's own operations, for tests/unit/muon-golden.test.ts.

Debian's torch 1.13 has no torch.optim.Muon (2.9+); its recipe (torch/optim/_muon.py,
_single_tensor_muon and _zeropower_via_newtonschulz) is a few torch ops, run here in float32 (the
library's default Newton–Schulz precision) and, for the cases with nsPrecision 'bf16', exactly as
torch 2.9's _zeropower_via_newtonschulz does it: X = U.bfloat16(), X.div_(X.norm().clamp(min=eps)),
then gram = X @ X.T, torch.addmm(gram, gram, gram, beta=b, alpha=c), torch.addmm(X, update, X,
beta=a), each product's bfloat16 operands multiplied and summed in float32 and its output rounded to
bfloat16 (torch 2.x's bfloat16 gemms; see bf16_product for why not 1.13's own bfloat16 `@`).
Tensors of more than two dimensions are flattened to [shape[0], rest] (the library's rule). Writes
every step's parameters and the final momentum (float32, base64 of the little-endian bytes) to tests/golden/muon-torch-1.13.json:

    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/torch-golden-muon.py
"""
import base64
import json
import math
import os
import sys

import numpy as np
import torch

if os.environ.get("ATEN_CPU_CAPABILITY") != "default":
    sys.exit("run with ATEN_CPU_CAPABILITY=default (see the docstring)")

STEPS = 4
SHAPES = [[7, 5], [5, 7], [33, 7], [1, 12], [12, 1], [16, 16], [3, 2, 2, 2]]
DEFAULTS = {"lr": 1e-3, "weightDecay": 0.1, "momentum": 0.95, "nesterov": True, "nsCoefficients": [3.4445, -4.775, 2.0315], "eps": 1e-7, "nsSteps": 5, "adjustLrFn": "original"}
CASES = [
    {},
    {"lr": 0.02, "nesterov": False, "adjustLrFn": "match_rms_adamw", "weightDecay": 0.01},
    {"lr": 0.01, "momentum": 0.5, "nsSteps": 2, "nsCoefficients": [[4.0848, -6.8946, 2.927], [3.9505, -6.3029, 2.6377]]},
    {"lr": 0.1, "eps": 3.0, "nsSteps": 3},
    {"nsPrecision": "bf16", "lr": 0.02},
    {"nsPrecision": "bf16", "lr": 0.01, "momentum": 0.5, "nsSteps": 2, "nsCoefficients": [[4.0848, -6.8946, 2.927], [3.9505, -6.3029, 2.6377]], "adjustLrFn": "match_rms_adamw"},
]


def f32(t):
    """A float32 tensor as the base64 of its little-endian bytes."""
    return base64.b64encode(t.detach().contiguous().numpy().astype("<f4").tobytes()).decode()


def zeropower(g, coefficients, eps):
    x = g
    if g.size(0) > g.size(1):
        x = x.T
    x = x.div(x.norm().clamp(min=eps))
    for a, b, c in coefficients:
        gram = x @ x.T
        poly = b * gram + c * (gram @ gram)
        x = a * x + poly @ x
    if g.size(0) > g.size(1):
        x = x.T
    return x


def bf16_product(left, right, beta=0.0, c=None, alpha=1.0):
    """bfloat16(beta·c + alpha·(left @ right)) from bfloat16 operands with float32 accumulation: what
    torch 2.x's bfloat16 gemms (CUDA, and CPU through oneDNN) compute. Debian's torch 1.13 CPU
    build (no AVX, generic BLAS) accumulates a bfloat16 matmul in bfloat16 instead, one rounding per
    term, so its own `@` on bfloat16 tensors is not torch 2.9's Muon: the float32 ops are used here."""
    out = alpha * (left.float() @ right.float())
    if c is not None:
        out = beta * c.float() + out
    return out.bfloat16()


def zeropower_bf16(g, coefficients, eps):
    """torch.optim.Muon's _zeropower_via_newtonschulz (torch 2.9), one triple per step:
    X = G.bfloat16(); X.div_(X.norm().clamp(min=eps)); gram = X @ X.T;
    update = torch.addmm(gram, gram, gram, beta=b, alpha=c); X = torch.addmm(X, update, X, beta=a)."""
    x = g.bfloat16()
    if g.size(0) > g.size(1):
        x = x.T
    x.div_(x.norm().clamp(min=eps))
    for a, b, c in coefficients:
        gram = bf16_product(x, x.T)
        update = bf16_product(gram, gram, beta=b, c=gram, alpha=c)
        x = bf16_product(update, x, beta=a, c=x)
    if g.size(0) > g.size(1):
        x = x.T
    return x


def run(case, seed):
    o = {**DEFAULTS, **case}
    abc = o["nsCoefficients"]
    coefficients = abc if isinstance(abc[0], list) else [abc] * o["nsSteps"]
    rng = np.random.default_rng(seed)
    params = [torch.tensor(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]
    initial = [f32(p) for p in params]
    bufs = [torch.zeros_like(p) for p in params]
    grads, history = [], []
    for step in range(STEPS):
        gs = [torch.tensor(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]
        if step == 0:
            gs[0] = torch.zeros(SHAPES[0])  # U = 0: the eps clamp
        for p, g, buf in zip(params, gs, bufs):
            buf.lerp_(g, 1 - o["momentum"])
            u = g.lerp(buf, o["momentum"]) if o["nesterov"] else buf
            rows = p.shape[0]
            cols = p.numel() // rows
            ns = zeropower_bf16 if o.get("nsPrecision") == "bf16" else zeropower
            update = ns(u.reshape(rows, cols), coefficients, o["eps"]).reshape(p.shape)
            ratio = math.sqrt(max(1, rows / cols)) if o["adjustLrFn"] == "original" else 0.2 * math.sqrt(max(rows, cols))
            p.mul_(1 - o["lr"] * o["weightDecay"])
            p.add_(update, alpha=-o["lr"] * ratio)
        grads.append([f32(g) for g in gs])
        history.append([f32(p) for p in params])
    return {"options": case, "shapes": SHAPES, "initial": initial, "grads": grads, "params": history, "momentum": [f32(b) for b in bufs]}


def main():
    torch.set_num_threads(1)
    out = {"torch": torch.__version__, "steps": STEPS, "cases": [run(case, 100 + k) for k, case in enumerate(CASES)]}
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "muon-torch-1.13.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {path}: {len(CASES)} cases x {STEPS} steps")


if __name__ == "__main__":
    main()
