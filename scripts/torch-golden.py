#!/usr/bin/env python3
"""Golden values from PyTorch itself, for tests/unit/torch-golden.test.ts.

Runs torch.optim (1.13, Debian's python3-torch: `apt-get install -y python3-torch`) on small
float32 tensors with ordinary and edge gradients, and writes every step's parameters and the final
state to tests/golden/torch-1.13.json (float32 arrays as base64 of their little-endian bytes, so
NaN and infinities survive). Run it with the portable CPU kernels, where every float32 operation
is rounded on its own as the CPU reference does (the AVX2 kernels fuse some into FMA):

    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/torch-golden.py
"""
import base64
import inspect
import json
import os
import sys

import numpy as np
import torch

if os.environ.get("ATEN_CPU_CAPABILITY") != "default":
    sys.exit("run with ATEN_CPU_CAPABILITY=default (see the docstring)")

SIZE = 37
STEPS = 8
EDGES = [0.0, -0.0, 1e-30, -1e-30, 1e20, -1e20, 1.0, -1.0]

# (library name, torch class, library options (camelCase), torch keyword arguments)
CASES = [
    ("sgd", torch.optim.SGD, {"lr": 0.1}, {"lr": 0.1}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weightDecay": 0.01}, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("adagrad", torch.optim.Adagrad, {"lrDecay": 0.1, "weightDecay": 0.1, "initialAccumulatorValue": 0.2}, {"lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.2}),
    ("rmsprop", torch.optim.RMSprop, {"centered": True, "momentum": 0.9, "weightDecay": 0.01}, {"centered": True, "momentum": 0.9, "weight_decay": 0.01}),
    ("rmsprop", torch.optim.RMSprop, {"alpha": 0.9, "maximize": True}, {"alpha": 0.9, "maximize": True}),
    ("adadelta", torch.optim.Adadelta, {"rho": 0.95, "weightDecay": 0.1}, {"rho": 0.95, "weight_decay": 0.1}),
    ("adam", torch.optim.Adam, {"weightDecay": 0.01}, {"weight_decay": 0.01}),
    ("adam", torch.optim.Adam, {"amsgrad": True, "maximize": True, "betas": [0.8, 0.99]}, {"amsgrad": True, "maximize": True, "betas": (0.8, 0.99)}),
    ("adamw", torch.optim.AdamW, {"amsgrad": True}, {"amsgrad": True}),
    ("adamax", torch.optim.Adamax, {}, {}),
    ("adamax", torch.optim.Adamax, {"weightDecay": 0.1, "maximize": True, "eps": 1e-3, "betas": [0.8, 0.99]}, {"weight_decay": 0.1, "maximize": True, "eps": 1e-3, "betas": (0.8, 0.99)}),
    ("nadam", torch.optim.NAdam, {}, {}),
    ("nadam", torch.optim.NAdam, {"weightDecay": 0.1, "momentumDecay": 0.05, "eps": 1e-3, "betas": [0.8, 0.99]}, {"weight_decay": 0.1, "momentum_decay": 0.05, "eps": 1e-3, "betas": (0.8, 0.99)}),
    ("radam", torch.optim.RAdam, {"betas": [0.9, 0.9]}, {"betas": (0.9, 0.9)}),
    ("radam", torch.optim.RAdam, {"weightDecay": 0.1, "eps": 1e-3, "betas": [0.8, 0.9]}, {"weight_decay": 0.1, "eps": 1e-3, "betas": (0.8, 0.9)}),
    ("rprop", torch.optim.Rprop, {}, {}),
    ("rprop", torch.optim.Rprop, {"lr": 0.1, "etas": [0.3, 1.5], "stepSizes": [1e-3, 0.5], "maximize": True}, {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.5), "maximize": True}),
]


def b64(array):
    return base64.b64encode(np.asarray(array, dtype="<f4").tobytes()).decode()


def gradients(seed):
    rng = np.random.default_rng(seed)
    out = []
    for step in range(STEPS):
        g = (rng.standard_normal(SIZE) * 10.0 ** rng.uniform(-2, 1, SIZE)).astype(np.float32)
        g[: len(EDGES)] = np.roll(np.array(EDGES, dtype=np.float32), step)  # each edge value at several places
        if step % 3 == 2:
            g[len(EDGES):] *= -1  # sign flips (Rprop's step-size rule)
        out.append(g)
    return out


def run(case_index, torch_class, kwargs):
    rng = np.random.default_rng(1000 + case_index)
    # Small parameters: the updates dominate them, so a rounding difference in an update shows.
    p0 = (rng.standard_normal(SIZE) * 1e-4).astype(np.float32)
    param = torch.nn.Parameter(torch.tensor(p0))
    if "foreach" in inspect.signature(torch_class).parameters:
        kwargs = {**kwargs, "foreach": False}  # the single-tensor path, as documented
    optimizer = torch_class([param], **kwargs)
    grads = gradients(case_index)
    params = []
    for g in grads:
        param.grad = torch.tensor(g)
        optimizer.step()
        params.append(b64(param.detach().numpy()))
    state = optimizer.state[param]
    slots = {k: b64(v.numpy()) for k, v in state.items() if torch.is_tensor(v) and v.numel() == SIZE}
    # 0-dim float32 state other than the step counter (NAdam's mu_product), as exact numbers.
    scalars = {k: float(v.item()) for k, v in state.items() if torch.is_tensor(v) and v.dim() == 0 and k != "step"}
    return {"params0": b64(p0), "grads": [b64(g) for g in grads], "params": params, "state": slots, "scalars": scalars}


def main():
    out = {"torch": torch.__version__, "size": SIZE, "steps": STEPS, "cases": []}
    for index, (name, torch_class, options, kwargs) in enumerate(CASES):
        out["cases"].append({"name": name, "options": options, **run(index, torch_class, dict(kwargs))})
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "torch-1.13.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
