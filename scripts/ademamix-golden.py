#!/usr/bin/env python3
"""Golden values of AdEMAMix from its authors' code, for tests/unit/ademamix-golden.test.ts.

The semantics source: apple/ml-ademamix (https://github.com/apple/ml-ademamix, MIT licence),
file pytorch/ademamix.py, commit c3d73c09f1287e5c33b95189bb0aa7de0a5a7667 (the file is unchanged
since e7327151bbf2c812ae2c080de5491c685b6eb509; git blob e7d3aa37fbb4a26222478ede3ffbbb1160081865).
That file is run as it is, imported from a checkout of the repository given as the argument; the
blob hash is checked first, so the vectors always come from that exact file.

It runs the authors' `AdEMAMix` (under Debian's python3-torch 1.13) on small float32 tensors with
ordinary and edge gradients and writes every step's parameters and the final state to
tests/golden/ademamix.json (float32 arrays as base64 of their little-endian bytes, so NaN and
infinities survive), in the format of tests/golden/torch-1.13.json. Run it with the portable CPU
kernels, where every float32 operation is rounded on its own as the CPU reference does:

    git clone https://github.com/apple/ml-ademamix /tmp/ml-ademamix
    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/ademamix-golden.py /tmp/ml-ademamix
"""
import base64
import hashlib
import importlib.util
import json
import os
import sys

import numpy as np
import torch

if os.environ.get("ATEN_CPU_CAPABILITY") != "default":
    sys.exit("run with ATEN_CPU_CAPABILITY=default (see the docstring)")
if len(sys.argv) != 2:
    sys.exit("usage: scripts/ademamix-golden.py PATH_TO_ML_ADEMAMIX_CHECKOUT")

SOURCE_BLOB = "e7d3aa37fbb4a26222478ede3ffbbb1160081865"
SIZE = 37
STEPS = 12
EDGES = [0.0, -0.0, 1e-30, -1e-30, 1e20, -1e20, 1.0, -1.0]

# (library options (camelCase), the authors' keyword arguments). Warmups end inside the run, so
# steps both during and after them are covered.
CASES = [
    ({}, {}),
    ({"alphaWarmup": 6, "beta3Warmup": 8}, {"alpha_warmup": 6, "beta3_warmup": 8}),
    ({"betas": [0, 0.99, 0.999], "alphaWarmup": 4, "beta3Warmup": 5}, {"betas": (0.0, 0.99, 0.999), "alpha_warmup": 4, "beta3_warmup": 5}),
    (
        {"lr": 0.01, "betas": [0.8, 0.99, 0.995], "alpha": 5, "weightDecay": 0.1, "eps": 1e-3, "alphaWarmup": 3, "beta3Warmup": 10},
        {"lr": 0.01, "betas": (0.8, 0.99, 0.995), "alpha": 5.0, "weight_decay": 0.1, "eps": 1e-3, "alpha_warmup": 3, "beta3_warmup": 10},
    ),
    ({"lr": 0.05, "alpha": 0, "weightDecay": 0.01}, {"lr": 0.05, "alpha": 0.0, "weight_decay": 0.01}),
]


def authors_class(checkout):
    path = os.path.join(checkout, "pytorch", "ademamix.py")
    with open(path, "rb") as f:
        data = f.read()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    if blob != SOURCE_BLOB:
        sys.exit(f"{path}: git blob {blob}, expected {SOURCE_BLOB} (see the docstring)")
    spec = importlib.util.spec_from_file_location("ademamix_authors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.AdEMAMix


def b64(array):
    return base64.b64encode(np.asarray(array, dtype="<f4").tobytes()).decode()


def gradients(seed):
    rng = np.random.default_rng(seed)
    out = []
    for step in range(STEPS):
        g = (rng.standard_normal(SIZE) * 10.0 ** rng.uniform(-2, 1, SIZE)).astype(np.float32)
        g[: len(EDGES)] = np.roll(np.array(EDGES, dtype=np.float32), step)  # each edge value at several places
        if step % 3 == 2:
            g[len(EDGES):] *= -1
        out.append(g)
    return out


def run(case_index, optimizer_class, kwargs):
    rng = np.random.default_rng(2000 + case_index)
    # Small parameters: the updates dominate them, so a rounding difference in an update shows.
    p0 = (rng.standard_normal(SIZE) * 1e-4).astype(np.float32)
    param = torch.nn.Parameter(torch.tensor(p0))
    optimizer = optimizer_class([param], **kwargs)
    grads = gradients(case_index)
    params = []
    for g in grads:
        param.grad = torch.tensor(g)
        optimizer.step()
        params.append(b64(param.detach().numpy()))
    state = optimizer.state[param]
    # exp_avg_fast is None at beta1 = 0: only tensors are state slots.
    slots = {k: b64(v.numpy()) for k, v in state.items() if torch.is_tensor(v) and v.numel() == SIZE}
    return {"params0": b64(p0), "grads": [b64(g) for g in grads], "params": params, "state": slots}


def main():
    optimizer_class = authors_class(sys.argv[1])
    out = {
        "torch": torch.__version__,
        "source": "apple/ml-ademamix pytorch/ademamix.py @ c3d73c09f1287e5c33b95189bb0aa7de0a5a7667",
        "size": SIZE,
        "steps": STEPS,
        "cases": [],
    }
    for index, (options, kwargs) in enumerate(CASES):
        out["cases"].append({"name": "ademamix", "options": options, **run(index, optimizer_class, dict(kwargs))})
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "ademamix.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
