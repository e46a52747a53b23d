#!/usr/bin/env python3
"""Golden values of Prodigy from its authors' code, for tests/unit/prodigy-golden.test.ts.

The semantics source: konstmish/prodigy (https://github.com/konstmish/prodigy, MIT licence,
Copyright (c) 2023 Konstantin Mishchenko), file prodigyopt/prodigy.py at commit
3efb213ee8af5a6bf76f28726398433a847b38e9 (git blob ff67f48ed5bf0e268de281e5df2cd39c2fa07b1b; the
file last changed in a1b4f0eff7ef988ac10d6f11f26b0da15d254588). The authors' module is copied
below unchanged, between the two "----" lines, then driven by this script.

It runs the authors' `Prodigy` (under Debian's python3-torch 1.13) on three small float32 tensors
(one all zero, where the authors keep p0 as a scalar 0), with gradients from a quadratic plus fixed
noise, for every option set below, and writes each step's parameters and group scalars (d,
d_numerator, d_max, d_hat, k: Python floats, that is float64) and the final per-tensor state to
tests/golden/prodigy.json (float32 arrays as base64 of their little-endian bytes). Run it with the
portable CPU kernels:

    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/prodigy-golden.py
"""
import base64
import json
import os
import sys

import numpy as np

if os.environ.get("ATEN_CPU_CAPABILITY") != "default":
    sys.exit("run with ATEN_CPU_CAPABILITY=default (see the docstring)")

# ---- konstmish/prodigy prodigyopt/prodigy.py @ 3efb213ee8af5a6bf76f28726398433a847b38e9, unchanged ----
import math
from typing import TYPE_CHECKING, Any, Callable, Optional

import torch
import torch.optim
import logging
import os
import torch.distributed as dist

if TYPE_CHECKING:
    from torch.optim.optimizer import _params_t
else:
    _params_t = Any


class Prodigy(torch.optim.Optimizer):
    r"""
    Implements Adam with Prodigy step-sizes.
    Leave LR set to 1 unless you encounter instability.
   
    Arguments:
        params (iterable):
            Iterable of parameters to optimize or dicts defining parameter groups.
        lr (float):
            Learning rate adjustment parameter. Increases or decreases the Prodigy learning rate.
        betas (Tuple[float, float], optional): coefficients used for computing
            running averages of gradient and its square (default: (0.9, 0.999))
        beta3 (float):
            coefficients for computing the Prodidy stepsize using running averages.
            If set to None, uses the value of square root of beta2 (default: None).
        eps (float):
            Term added to the denominator outside of the root operation to improve numerical stability. (default: 1e-8).
        weight_decay (float):
            Weight decay, i.e. a L2 penalty (default: 0).
        decouple (boolean):
            Use AdamW style decoupled weight decay
        use_bias_correction (boolean):
            Turn on Adam's bias correction. Off by default.
        safeguard_warmup (boolean):
            Remove lr from the denominator of D estimate to avoid issues during warm-up stage. Off by default.
        d0 (float):
            Initial D estimate for D-adaptation (default 1e-6). Rarely needs changing.
        d_coef (float):
            Coefficient in the expression for the estimate of d (default 1.0).
            Values such as 0.5 and 2.0 typically work as well. 
            Changing this parameter is the preferred way to tune the method.
        growth_rate (float):
            prevent the D estimate from growing faster than this multiplicative rate.
            Default is inf, for unrestricted. Values like 1.02 give a kind of learning
            rate warmup effect.
        fsdp_in_use (bool):
            If you're using sharded parameters, this should be set to True. The optimizer
            will attempt to auto-detect this, but if you're using an implementation other
            than PyTorch's builtin version, the auto-detection won't work.
        slice_p (int): Reduce memory usage by calculating LR adaptation statistics on only every 
            pth entry of each tensor. For values greater than 1 this is an approximation to standard 
            Prodigy. Values ~11 are reasonable (default 1).
    """
    def __init__(self, params, lr=1.0,
                 betas=(0.9, 0.999), beta3=None,
                 eps=1e-8, weight_decay=0, decouple=True, 
                 use_bias_correction=False, safeguard_warmup=False,
                 d0=1e-6, d_coef=1.0, growth_rate=float('inf'),
                 fsdp_in_use=False,
                 slice_p=1):
        if not 0.0 < d0:
            raise ValueError("Invalid d0 value: {}".format(d0))
        if not 0.0 < lr:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if not 0.0 < eps:
            raise ValueError("Invalid epsilon value: {}".format(eps))
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError("Invalid beta parameter at index 0: {}".format(betas[0]))
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError("Invalid beta parameter at index 1: {}".format(betas[1]))

        if decouple and weight_decay > 0:
            print(f"Using decoupled weight decay")

       
        defaults = dict(lr=lr, betas=betas, beta3=beta3,
                        eps=eps, weight_decay=weight_decay,
                        d=d0, d0=d0, d_max=d0,
                        d_numerator=0.0, d_coef=d_coef,
                        k=0, growth_rate=growth_rate,
                        use_bias_correction=use_bias_correction,
                        decouple=decouple, safeguard_warmup=safeguard_warmup,
                        fsdp_in_use=fsdp_in_use,
                        slice_p=slice_p)
        self.d0 = d0
        super().__init__(params, defaults)

    @property
    def supports_memory_efficient_fp16(self):
        return False

    @property
    def supports_flat_params(self):
        return True

    def step(self, closure=None):
        """Performs a single optimization step.

        Arguments:
            closure (callable, optional): A closure that reevaluates the model
                and returns the loss.
        """
        loss = None
        if closure is not None:
            loss = closure()

        d_denom = 0.0

        group = self.param_groups[0]
        use_bias_correction = group['use_bias_correction']
        beta1, beta2 = group['betas']
        beta3 = group['beta3']
        if beta3 is None:
            beta3 = math.sqrt(beta2)
        k = group['k']

        d = group['d']
        d_max = group['d_max']
        d_coef = group['d_coef']
        lr = max(group['lr'] for group in self.param_groups)

        if use_bias_correction:
            bias_correction = ((1 - beta2**(k+1))**0.5) / (1 - beta1**(k+1))
        else:
            bias_correction = 1

        dlr = d*lr*bias_correction
       
        growth_rate = group['growth_rate']
        decouple = group['decouple']
        fsdp_in_use = group['fsdp_in_use']

        d_numerator = group['d_numerator']
        d_numerator *= beta3
        delta_numerator = 0.0

        for group in self.param_groups:
            decay = group['weight_decay']
            k = group['k']
            eps = group['eps']
            group_lr = group['lr']
            d0 = group['d0']
            safeguard_warmup = group['safeguard_warmup']
            slice_p = group['slice_p']

            if group_lr not in [lr, 0.0]:
                raise RuntimeError(f"Setting different lr values in different parameter groups is only supported for values of 0")

            for p in group['params']:
                if p.grad is None:
                    continue
                if hasattr(p, "_fsdp_flattened"):
                    fsdp_in_use = True
               
                grad = p.grad.data
               
                # Apply weight decay (coupled variant)
                if decay != 0 and not decouple:
                    grad.add_(p.data, alpha=decay)

                state = self.state[p]

                # State initialization
                if 'step' not in state:
                    state['step'] = 0

                    state['s'] = torch.zeros_like(p.data.flatten()[::slice_p]).detach()

                    if p.any():
                        state['p0'] = p.flatten()[::slice_p].detach().clone()
                    else:
                        # All values are zero, so save VRAM with a zero-tensor
                        state['p0'] = torch.tensor(0, device=p.device, dtype=p.dtype)

                    # Exponential moving average of gradient values
                    if beta1 > 0:
                        state['exp_avg'] = torch.zeros_like(p.data).detach()
                    # Exponential moving average of squared gradient values
                    state['exp_avg_sq'] = torch.zeros_like(p.data).detach()

                exp_avg_sq = state['exp_avg_sq']

                s = state['s']
                p0 = state['p0']

                if group_lr > 0.0:
                    # we use d / d0 instead of just d to avoid getting values that are too small
                    sliced_grad = grad.flatten()[::slice_p]
                    delta_numerator += (d / d0) * dlr * torch.dot(sliced_grad, p0.data - p.data.flatten()[::slice_p]).item()

                    # Adam EMA updates
                    if beta1 > 0:
                        exp_avg = state['exp_avg']
                        exp_avg.mul_(beta1).add_(grad, alpha=d * (1-beta1))
                    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=d * d * (1-beta2))

                    if safeguard_warmup:
                        s.mul_(beta3).add_(sliced_grad, alpha=((d / d0) * d))
                    else:
                        s.mul_(beta3).add_(sliced_grad, alpha=((d / d0) * dlr))
                    d_denom += s.abs().sum().item()

            ######

        d_hat = d

        # if we have not done any progres, return
        # if we have any gradients available, will have d_denom > 0 (unless \|g\|=0)
        if d_denom == 0 and not fsdp_in_use:
            return loss
       
        if lr > 0.0:
            if fsdp_in_use:
                dist_tensor = torch.zeros(2).cuda()
                dist_tensor[0] = delta_numerator
                dist_tensor[1] = d_denom
                dist.all_reduce(dist_tensor, op=dist.ReduceOp.SUM)
                global_d_numerator = d_numerator + dist_tensor[0]
                global_d_denom = dist_tensor[1]
            else:
                global_d_numerator = d_numerator + delta_numerator
                global_d_denom = d_denom

            d_hat = d_coef * global_d_numerator / global_d_denom
            if d == group['d0']:
                d = max(d, d_hat)
            d_max = max(d_max, d_hat)
            d = min(d_max, d * growth_rate)

        for group in self.param_groups:
            group['d_numerator'] = global_d_numerator
            group['d_denom'] = global_d_denom
            group['d'] = d
            group['d_max'] = d_max
            group['d_hat'] = d_hat

            decay = group['weight_decay']
            k = group['k']
            eps = group['eps']

            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.data

                state = self.state[p]

                exp_avg_sq = state['exp_avg_sq']

                state['step'] += 1

                denom = exp_avg_sq.sqrt().add_(d * eps)

                # Apply weight decay (decoupled variant)
                if decay != 0 and decouple:
                    p.data.add_(p.data, alpha=-decay * dlr)

                ### Take step
                if beta1 > 0:
                    exp_avg = state['exp_avg']
                    p.data.addcdiv_(exp_avg, denom, value=-dlr)
                else:
                    p.data.addcdiv_(grad, denom, value=-dlr * d)

            group['k'] = k + 1

        return loss
        
# ---- end of the authors' file ----

STEPS = 15
SHAPES = [(4, 5), (7,), (3,)]

# (library options (camelCase), the authors' keyword arguments, per-group overrides (camelCase,
# authors'), whether the first step's gradients are all zero).
CASES = [
    ({}, {}, None, False),
    ({"weightDecay": 0.1}, {"weight_decay": 0.1}, None, False),
    ({"weightDecay": 0.1, "decouple": False}, {"weight_decay": 0.1, "decouple": False}, None, False),
    ({"useBiasCorrection": True}, {"use_bias_correction": True}, None, False),
    ({"safeguardWarmup": True, "lr": 0.5}, {"safeguard_warmup": True, "lr": 0.5}, None, False),
    ({"growthRate": 1.02}, {"growth_rate": 1.02}, None, False),
    ({"d0": 1e-4, "dCoef": 0.5}, {"d0": 1e-4, "d_coef": 0.5}, None, False),
    ({"betas": [0.0, 0.99]}, {"betas": (0.0, 0.99)}, None, False),
    ({"lr": 0.5, "beta3": 0.9, "eps": 1e-6}, {"lr": 0.5, "beta3": 0.9, "eps": 1e-6}, None, False),
    ({"sliceP": 3}, {"slice_p": 3}, None, False),
    ({}, {}, None, True),
    ({"weightDecay": 0.01}, {"weight_decay": 0.01},
     ({"weightDecay": 0.2, "eps": 1e-4, "safeguardWarmup": True}, {"weight_decay": 0.2, "eps": 1e-4, "safeguard_warmup": True}), False),
]


# PyTorch's step rule (a parameter whose grad is None is passed by in both loops of step()):
# PRESENT[step % 5][tensor]. Tensor 1's first step comes late, step 2 has no gradient at all (the
# early return: Σ|s| = 0), every tensor has one at least once.
PRESENT = [
    [True, False, True],
    [True, True, False],
    [False, False, False],
    [True, True, True],
    [False, True, False],
]
SKIP_CASES = [
    ({}, {}, None, False),
    ({"weightDecay": 0.1, "decouple": False, "useBiasCorrection": True, "d0": 1e-4}, {"weight_decay": 0.1, "decouple": False, "use_bias_correction": True, "d0": 1e-4}, None, False),
    ({"safeguardWarmup": True, "sliceP": 2, "growthRate": 1.5}, {"safeguard_warmup": True, "slice_p": 2, "growth_rate": 1.5},
     ({"weightDecay": 0.2}, {"weight_decay": 0.2}), False),
]


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def initial_params():
    rng = np.random.default_rng(28)
    params = [rng.standard_normal(shape).astype(np.float32) * np.float32(0.5) for shape in SHAPES]
    params[2][:] = 0  # all zero: the authors' p0 is then a scalar 0
    return [torch.tensor(p) for p in params]


def gradient(p, index, step, zero):
    """0.7·(p − target) + noise, in float32; all zero when asked (the first step of a case)."""
    if zero:
        return torch.zeros_like(p)
    rng = np.random.default_rng(1000 * index + step)
    target = np.full(p.shape, 0.3 * (index + 1), dtype=np.float32)
    noise = rng.standard_normal(p.shape).astype(np.float32) * np.float32(0.05)
    return (p.detach() - torch.tensor(target)) * 0.7 + torch.tensor(noise)


SCALARS = ("d", "d_numerator", "d_max", "d_hat", "k")


def run(options, kwargs, second, zero_first, skipping=False):
    params = [torch.nn.Parameter(p.clone()) for p in initial_params()]
    groups = [{"params": params[:2]}, {"params": params[2:]}]
    if second is not None:
        groups[1].update(second[1])
    optimizer = Prodigy(groups, **kwargs)
    case = {"options": options, "params0": [b64(p.detach().numpy()) for p in params], "grads": [], "params": [], "scalars": []}
    if second is not None:
        case["secondGroup"] = second[0]
    for step in range(STEPS):
        grads = [gradient(p, i, step, zero_first and step == 0) for i, p in enumerate(params)]
        present = PRESENT[step % len(PRESENT)] if skipping else [True] * len(params)
        for p, g, has in zip(params, grads, present):
            p.grad = g.clone() if has else None
        case["grads"].append([b64(g.numpy()) if has else None for g, has in zip(grads, present)])
        optimizer.step()
        case["params"].append([b64(p.detach().numpy()) for p in params])
        group = optimizer.param_groups[0]
        case["scalars"].append({name: float(group[name]) for name in SCALARS if name in group})
    case["state"] = []
    for p in params:
        state = optimizer.state[p]
        entry = {name: b64(state[name].detach().numpy().reshape(-1)) for name in ("s", "p0", "exp_avg", "exp_avg_sq") if name in state}
        entry["step"] = int(state["step"])
        case["state"].append(entry)
    return case


def main():
    torch.manual_seed(0)
    out = {
        "torch": torch.__version__,
        "source": "konstmish/prodigy prodigyopt/prodigy.py @ 3efb213ee8af5a6bf76f28726398433a847b38e9",
        "steps": STEPS,
        "shapes": [list(s) for s in SHAPES],
        "cases": [run(*case) for case in CASES],
        "skipCases": [run(*case, skipping=True) for case in SKIP_CASES],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "prodigy.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
