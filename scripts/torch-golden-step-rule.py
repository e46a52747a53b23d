#!/usr/bin/env python3
"""Golden values for PyTorch's step rule (a parameter whose grad is None is skipped), for
tests/unit/step-rule-golden.test.ts.

torch.optim (1.13, Debian's python3-torch) runs over three float32 parameters for 8 steps; before
each step `zero_grad(set_to_none=True)` clears every gradient and only the parameters the mask
below names get one: the others keep their values and state, and their own `state['step']` does
not advance (torch/optim/*.py of 1.13: `if p.grad is not None` in each optimizer's step). Step 1
leaves parameter 1 without gradient (its first step comes later), step 4 leaves every parameter
without one, and parameter 2 has none on steps 2, 5 and 6. Writes every step's parameters and each
parameter's final state and `step` to tests/golden/step-rule.json (float32 arrays as base64 of their
little-endian bytes). `controlCases` add gradient clipping before each step, as a PyTorch user writes it:
torch.nn.utils.clip_grad_norm_ (norm 2 and inf) and clip_grad_value_ over every parameter, which take
only those whose grad is not None (torch/nn/utils/clip_grad.py of 1.13); each step's returned total
norm is kept (0 for a step with no gradient at all). The accumulation cases (below: several backwards
per optimizer step, some parameters reached by some micro-batches only) go to the same file under
"accumulation". Run it with the portable CPU kernels (every float32 operation rounded on its
own, as the CPU reference does):

    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/torch-golden-step-rule.py
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

SIZES = [37, 5, 11]
# PRESENT[step][param]: whether the parameter has a gradient on that step.
PRESENT = [
    [True, False, True],
    [True, True, False],
    [True, True, True],
    [False, False, False],
    [True, True, False],
    [False, True, False],
    [True, True, True],
    [True, False, True],
]

# (library name, torch class, library options (camelCase), torch keyword arguments)
CASES = [
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weightDecay": 0.01}, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("adagrad", torch.optim.Adagrad, {"lrDecay": 0.1, "weightDecay": 0.1, "initialAccumulatorValue": 0.2}, {"lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.2}),
    ("rmsprop", torch.optim.RMSprop, {"centered": True, "momentum": 0.9, "weightDecay": 0.01}, {"centered": True, "momentum": 0.9, "weight_decay": 0.01}),
    ("adadelta", torch.optim.Adadelta, {"rho": 0.95, "weightDecay": 0.1}, {"rho": 0.95, "weight_decay": 0.1}),
    ("adam", torch.optim.Adam, {"weightDecay": 0.01}, {"weight_decay": 0.01}),
    ("adam", torch.optim.Adam, {"amsgrad": True, "betas": [0.8, 0.99]}, {"amsgrad": True, "betas": (0.8, 0.99)}),
    ("adamw", torch.optim.AdamW, {"weightDecay": 0.1}, {"weight_decay": 0.1}),
    ("adamax", torch.optim.Adamax, {"weightDecay": 0.1}, {"weight_decay": 0.1}),
    ("nadam", torch.optim.NAdam, {"weightDecay": 0.1, "momentumDecay": 0.05}, {"weight_decay": 0.1, "momentum_decay": 0.05}),
    ("radam", torch.optim.RAdam, {"betas": [0.9, 0.9]}, {"betas": (0.9, 0.9)}),
    ("rprop", torch.optim.Rprop, {"lr": 0.1}, {"lr": 0.1}),
]


# (library name, torch class, library options with gradClipping, torch keyword arguments, clipping)
CONTROL_CASES = [
    ("adam", torch.optim.Adam, {"weightDecay": 0.01, "gradClipping": {"maxNorm": 1}}, {"weight_decay": 0.01}, ("norm", 1.0, 2.0)),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "gradClipping": {"maxNorm": 0.5, "normType": "inf"}}, {"lr": 0.05, "momentum": 0.9}, ("norm", 0.5, float("inf"))),
    ("adamw", torch.optim.AdamW, {"weightDecay": 0.1, "gradClipping": {"maxValue": 0.05}}, {"weight_decay": 0.1}, ("value", 0.05, None)),
    ("nadam", torch.optim.NAdam, {"gradClipping": {"maxValue": 0.1, "maxNorm": 0.3}}, {}, ("both", 0.1, 0.3)),
]


def clip(params, clipping):
    """The clipping a user calls between backward() and step(): the total norm it returns (or None)."""
    kind, a, b = clipping
    if kind == "value":
        torch.nn.utils.clip_grad_value_(params, a)
        return None
    if kind == "both":
        torch.nn.utils.clip_grad_value_(params, a)
        return float(torch.nn.utils.clip_grad_norm_(params, b, 2.0))
    return float(torch.nn.utils.clip_grad_norm_(params, a, b))


def b64(array):
    return base64.b64encode(np.asarray(array, dtype="<f4").tobytes()).decode()


def run(case_index, torch_class, kwargs, clipping=None):
    rng = np.random.default_rng(2000 + case_index)
    p0 = [(rng.standard_normal(n) * 1e-2).astype(np.float32) for n in SIZES]
    params = [torch.nn.Parameter(torch.tensor(p)) for p in p0]
    if "foreach" in inspect.signature(torch_class).parameters:
        kwargs = {**kwargs, "foreach": False}  # the single-tensor path, as documented
    optimizer = torch_class(params, **kwargs)
    grads, after, norms = [], [], []
    for present in PRESENT:
        optimizer.zero_grad(set_to_none=True)
        row = []
        for p, n, has in zip(params, SIZES, present):
            if has:
                g = (rng.standard_normal(n) * 10.0 ** rng.uniform(-2, 1, n)).astype(np.float32)
                p.grad = torch.tensor(g)
                row.append(b64(g))
            else:
                row.append(None)
        grads.append(row)
        if clipping is not None:
            norms.append(clip(params, clipping))
        optimizer.step()
        after.append([b64(p.detach().numpy()) for p in params])
    states = []
    for p, n in zip(params, SIZES):
        state = optimizer.state[p]
        slots = {k: b64(v.numpy()) for k, v in state.items() if torch.is_tensor(v) and v.numel() == n and k != "step"}
        scalars = {k: float(v.item()) for k, v in state.items() if torch.is_tensor(v) and v.dim() == 0 and k != "step"}
        step = state.get("step")
        states.append({"slots": slots, "scalars": scalars, "step": None if step is None else int(step.item() if torch.is_tensor(step) else step)})
    result = {"params0": [b64(p) for p in p0], "grads": grads, "params": after, "state": states}
    return result if clipping is None else {**result, "norms": norms}


# Gradient accumulation: ACCUMULATION_STEPS backwards per optimizer step, `zero_grad(set_to_none=True)`
# once per optimizer step (before its first backward), as a torch training loop with accumulation
# does. Each backward reaches only the parameters its micro-batch's mask names: autograd writes the
# gradient of one reached first and adds to it afterwards, so at the step a parameter has a gradient
# iff some micro-batch reached it. ACCUMULATION_PRESENT[step][micro-batch][param]: parameter 0 is
# reached by every micro-batch, parameter 1 by some only, parameter 2 by none on steps 1 and 3,
# parameter 3 never; on step 3 no micro-batch reaches any parameter.
ACCUMULATION_SIZES = [37, 5, 11, 3]
ACCUMULATION_STEPS = 3
ACCUMULATION_PRESENT = [
    [[True, False, False, False], [True, True, False, False], [True, False, False, False]],
    [[True, False, True, False], [False, False, False, False], [True, True, True, False]],
    [[False, False, False, False], [False, False, False, False], [False, False, False, False]],
    [[False, True, False, False], [True, False, False, False], [True, True, True, False]],
    [[True, True, False, False], [True, False, True, False], [False, False, False, False]],
]
ACCUMULATION_CASES = [case for case in CASES if case[0] in ("sgd", "adam", "adamw", "nadam", "radam", "adagrad", "rmsprop")]


def run_accumulation(case_index, torch_class, kwargs):
    rng = np.random.default_rng(3000 + case_index)
    p0 = [(rng.standard_normal(n) * 1e-2).astype(np.float32) for n in ACCUMULATION_SIZES]
    params = [torch.nn.Parameter(torch.tensor(p)) for p in p0]
    if "foreach" in inspect.signature(torch_class).parameters:
        kwargs = {**kwargs, "foreach": False}
    optimizer = torch_class(params, **kwargs)
    grads, after = [], []
    for step in ACCUMULATION_PRESENT:
        optimizer.zero_grad(set_to_none=True)
        step_grads = []
        for present in step:
            row, loss = [], None
            for p, n, has in zip(params, ACCUMULATION_SIZES, present):
                if has:
                    g = (rng.standard_normal(n) * 10.0 ** rng.uniform(-2, 1, n)).astype(np.float32)
                    # d/dp sum(p * g) = g exactly: this backward writes (or adds) g to p.grad.
                    term = (p * torch.tensor(g)).sum()
                    loss = term if loss is None else loss + term
                    row.append(b64(g))
                else:
                    row.append(None)
            if loss is not None:
                loss.backward()
            step_grads.append(row)
        grads.append(step_grads)
        optimizer.step()
        after.append([b64(p.detach().numpy()) for p in params])
    states = []
    for p, n in zip(params, ACCUMULATION_SIZES):
        state = optimizer.state[p]
        slots = {k: b64(v.numpy()) for k, v in state.items() if torch.is_tensor(v) and v.numel() == n and k != "step"}
        step = state.get("step")
        states.append({"slots": slots, "step": None if step is None else int(step.item() if torch.is_tensor(step) else step)})
    return {"params0": [b64(p) for p in p0], "grads": grads, "params": after, "state": states}


def main():
    out = {"torch": torch.__version__, "sizes": SIZES, "present": PRESENT, "cases": []}
    for index, (name, torch_class, options, kwargs) in enumerate(CASES):
        out["cases"].append({"name": name, "options": options, **run(index, torch_class, dict(kwargs))})
    out["accumulation"] = {"sizes": ACCUMULATION_SIZES, "steps": ACCUMULATION_STEPS, "present": ACCUMULATION_PRESENT, "cases": []}
    for index, (name, torch_class, options, kwargs) in enumerate(ACCUMULATION_CASES):
        out["accumulation"]["cases"].append({"name": name, "options": options, **run_accumulation(index, torch_class, dict(kwargs))})
    out["controlCases"] = []
    for index, (name, torch_class, options, kwargs, clipping) in enumerate(CONTROL_CASES):
        out["controlCases"].append({"name": name, "options": options, **run(100 + index, torch_class, dict(kwargs), clipping)})
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "step-rule.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases, {len(out['controlCases'])} with clipping and {len(out['accumulation']['cases'])} accumulation cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
