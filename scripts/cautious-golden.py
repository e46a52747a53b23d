#!/usr/bin/env python3
"""Golden values of cautious updates from the authors' own code, for tests/unit/cautious-golden.test.ts.

Liang et al. 2024, "Cautious Optimizers: Improving Training with One Line of Code"; the authors'
repository https://github.com/kyleliang919/C-Optim at commit
2c0517c4db2e50b56d389ba4803eab1f4b3b8ae3 (c_adamw.py and c_lion.py last changed in
7e53be096ee6fc0a842ffddfbefbc33b950b572d). Pass the folder holding those two files:

    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/cautious-golden.py DIR

Runs their `AdamW` (c_adamw.py, `foreach=False`: its per-parameter loop; the default foreach path
needs torch >= 2.4's `_foreach_lerp_` and `torch.compile`) and their `Lion` (c_lion.py) under
Debian's torch 1.13 on two float32 tensors (37 and 300 elements: the mask's mean is per tensor),
with ordinary and edge gradients, and writes every step's parameters and the final state to
tests/golden/cautious.json (float32 as base64 of little-endian bytes). c_adamw.py imports names
that torch 1.13 lacks (distributed tensors, newer optimizer helpers) but its loop does not use:
they are stubbed before the file is loaded; nothing of the update is changed.
"""
import base64
import importlib.util
import json
import os
import sys
import types
import warnings

import numpy as np
import torch
import torch.optim.optimizer as torch_optimizer

if os.environ.get("ATEN_CPU_CAPABILITY") != "default":
    sys.exit("run with ATEN_CPU_CAPABILITY=default (every float32 operation rounded on its own)")
if len(sys.argv) != 2:
    sys.exit("usage: cautious-golden.py DIR (holding C-Optim's c_adamw.py and c_lion.py)")
SOURCE = sys.argv[1]

SIZES = [37, 300]
STEPS = 8
EDGES = [0.0, -0.0, 1e-30, -1e-30, 1e20, -1e20, 1.0, -1.0]


def stub_missing_imports():
    """Names c_adamw.py imports at module level that torch 1.13 does not have (unused by its loop)."""
    dist_tensor = types.ModuleType("torch.distributed.tensor")

    class DTensor:  # never an instance: `type(grad) is DTensor` is False, as for any plain tensor
        pass

    dist_tensor.DTensor = DTensor
    dist_tensor.DeviceMesh = object
    dist_tensor.distribute_tensor = None
    sys.modules["torch.distributed.tensor"] = dist_tensor
    torch.distributed.tensor = dist_tensor
    for name in ["_capturable_doc", "_default_to_fused_or_foreach", "_device_dtype_check_for_fused", "_differentiable_doc",
                 "_disable_dynamo_if_unsupported", "_foreach_doc", "_fused_doc", "_get_capturable_supported_devices",
                 "_get_scalar_dtype", "_get_value", "_maximize_doc", "_stack_if_compiling", "_to_scalar", "_view_as_real",
                 "DeviceDict", "DeviceDtypeDict", "ParamsT"]:
        if not hasattr(torch_optimizer, name):
            setattr(torch_optimizer, name, None)
    if not hasattr(torch, "compile"):
        torch.compile = lambda *args, **kwargs: (lambda f: f)
    package = types.ModuleType("coptim")
    package.__path__ = [SOURCE]
    sys.modules["coptim"] = package
    opt_utils = types.ModuleType("coptim.opt_utils")
    for name in ["AsyncTask", "AsyncRuntime", "to_local", "create_param_batches", "pad_batch"]:
        setattr(opt_utils, name, None)  # the foreach path's helpers
    sys.modules["coptim.opt_utils"] = opt_utils


def load(name):
    spec = importlib.util.spec_from_file_location(f"coptim.{name}", os.path.join(SOURCE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def b64(array):
    return base64.b64encode(np.asarray(array, dtype="<f4").tobytes()).decode()


def gradients(seed, size):
    rng = np.random.default_rng(seed)
    out = []
    for step in range(STEPS):
        g = (rng.standard_normal(size) * 10.0 ** rng.uniform(-2, 1, size)).astype(np.float32)
        g[: len(EDGES)] = np.roll(np.array(EDGES, dtype=np.float32), step)
        if step % 3 == 2:
            g[len(EDGES):] *= -1
        out.append(g)
    return out


def run(case_index, make, state_names):
    rng = np.random.default_rng(2000 + case_index)
    p0 = [(rng.standard_normal(size) * 1e-2).astype(np.float32) for size in SIZES]
    params = [torch.nn.Parameter(torch.tensor(p)) for p in p0]
    optimizer = make(params)
    grads = [gradients(100 * case_index + k, size) for k, size in enumerate(SIZES)]
    steps = []
    for step in range(STEPS):
        for k, param in enumerate(params):
            param.grad = torch.tensor(grads[k][step])
        optimizer.step()
        steps.append([b64(param.detach().numpy()) for param in params])
    state = [{slot: b64(optimizer.state[param][theirs].numpy()) for slot, theirs in state_names.items()} for param in params]
    return {"params0": [b64(p) for p in p0], "grads": [[b64(g) for g in per_step] for per_step in zip(*grads)], "params": steps, "state": state}


def main():
    stub_missing_imports()
    c_adamw = load("c_adamw")
    c_lion = load("c_lion")
    warnings.simplefilter("ignore", FutureWarning)  # their AdamW warns that it is deprecated
    adam_slots = {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}
    cases = [
        ("adamw", {"cautious": True, "lr": 0.01, "weightDecay": 0.1, "eps": 1e-12},
         lambda ps: c_adamw.AdamW(ps, lr=0.01, weight_decay=0.1, eps=1e-12, foreach=False), adam_slots),
        ("adamw", {"cautious": True, "lr": 0.003, "weightDecay": 0, "betas": [0.8, 0.99], "eps": 1e-10},
         lambda ps: c_adamw.AdamW(ps, lr=0.003, weight_decay=0.0, betas=(0.8, 0.99), eps=1e-10, foreach=False), adam_slots),
        ("lion", {"cautious": True, "lr": 0.01, "weightDecay": 0.5, "betas": [0.95, 0.98]},
         lambda ps: c_lion.Lion(ps, lr=0.01, weight_decay=0.5, betas=(0.95, 0.98)), {"exp_avg": "exp_avg"}),
        ("lion", {"cautious": True, "lr": 0.001, "betas": [0.9, 0.99]},
         lambda ps: c_lion.Lion(ps, lr=0.001, betas=(0.9, 0.99)), {"exp_avg": "exp_avg"}),
    ]
    out = {
        "torch": torch.__version__,
        "source": "kyleliang919/C-Optim@2c0517c4db2e50b56d389ba4803eab1f4b3b8ae3 c_adamw.py (AdamW, foreach=False), c_lion.py (Lion)",
        "sizes": SIZES,
        "steps": STEPS,
        "cases": [],
    }
    for index, (name, options, make, slots) in enumerate(cases):
        out["cases"].append({"name": name, "options": options, **run(index, make, slots)})
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "cautious.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
