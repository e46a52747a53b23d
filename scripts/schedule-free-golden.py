#!/usr/bin/env python3
"""Golden values for Schedule-Free AdamW from the authors' own code, for
tests/unit/schedule-free-golden.test.ts.

The two optimizer classes below are copied verbatim (docstrings included) from
facebookresearch/schedule_free at commit 70785b53e778d0e872c0bbb75ff4ee54ee10c291
(Apache License 2.0, Copyright (c) Meta Platforms, Inc. and affiliates):
  - schedulefree/adamw_schedulefree.py        AdamWScheduleFree       -> adamw_schedule_free
  - schedulefree/adamw_schedulefree_paper.py  AdamWScheduleFreePaper  -> adamw_schedule_free_paper
They need nothing newer than Debian's torch 1.13; that torch has no torch._foreach_lerp_, so they
run with foreach=False (the per-tensor path, the same operations in the same order).

Each case steps a float32 tensor with ordinary and edge gradients, switches to eval() and back
to train() in the middle and at the end, and records the parameters after every step and switch
and the final state in tests/golden/schedule-free.json (float32 as base64 of little-endian bytes).
Each skip case steps two tensors, some of whose grads are None on some steps (PyTorch's step rule:
upstream steps only `p.grad is not None`, while k, lr_max and weight_sum advance for the group).
Run it with the portable CPU kernels, where every float32 operation is rounded on its own:

    ATEN_CPU_CAPABILITY=default /usr/bin/python3 scripts/schedule-free-golden.py
"""
import base64
import json
import os
import sys

import numpy as np

if os.environ.get("ATEN_CPU_CAPABILITY") != "default":
    sys.exit("run with ATEN_CPU_CAPABILITY=default (see the docstring)")

# ---- facebookresearch/schedule_free @ 70785b53e778d0e872c0bbb75ff4ee54ee10c291: schedulefree/adamw_schedulefree.py (verbatim) ----
# Copyright (c) Meta Platforms, Inc. and affiliates.
# All rights reserved.
#
# This source code is licensed under the license found in the
# LICENSE file in the root directory of this source tree.
from typing import Tuple, Union, Optional, Iterable, Dict, Callable, Any
from typing_extensions import TypeAlias
import torch
import torch.optim
try:
    from torch.optim.optimizer import ParamsT
except ImportError:
    ParamsT : TypeAlias = Union[Iterable[torch.Tensor], Iterable[Dict[str, Any]]]
import math

class AdamWScheduleFree(torch.optim.Optimizer):
    r"""
    Schedule-Free AdamW
    As the name suggests, no scheduler is needed with this optimizer.
    To add warmup, rather than using a learning rate schedule you can just
    set the warmup_steps parameter.

    This optimizer requires that .train() and .eval() be called before the
    beginning of training and evaluation respectively. The optimizer should
    also be placed in eval mode when saving checkpoints.

    Arguments:
        params (iterable):
            Iterable of parameters to optimize or dicts defining
            parameter groups.
        lr (float):
            Learning rate parameter (default 0.0025)
        betas (Tuple[float, float], optional): coefficients used for computing
            running averages of gradient and its square (default: (0.9, 0.999)).
        eps (float):
            Term added to the denominator outside of the root operation to
            improve numerical stability. (default: 1e-8).
        weight_decay (float):
            Weight decay, i.e. a L2 penalty (default: 0).
        warmup_steps (int): Enables a linear learning rate warmup (default 0).
        r (float): Use polynomial weighting in the average
            with power r (default 0).
        weight_lr_power (float): During warmup, the weights in the average will
            be equal to lr raised to this power. Set to 0 for no weighting
            (default 2.0).
        inner_momentum (float): Momentum applied to the gradient inside the
            AdamW update (i.e. an exponential moving average of the gradient,
            equivalent to AdamW's first-moment beta1). When set to 0 (default)
            no inner momentum is used and no memory is allocated for the
            running average buffer. A recommended value when enabling this
            feature is 0.9.
        foreach (bool): Use a foreach-backed implementation of the optimizer.
            Should be significantly faster, but will have higher peak memory
            usage (default True if supported in your PyTorch version).
    """
    def __init__(self,
                 params: ParamsT,
                 lr: Union[float, torch.Tensor] = 0.0025,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8,
                 weight_decay: float = 0,
                 warmup_steps: int = 0,
                 r: float = 0.0,
                 weight_lr_power: float = 2.0,
                 inner_momentum: float = 0.0,
                 foreach: Optional[bool] = hasattr(torch, "_foreach_mul_")
                 ):

        defaults = dict(lr=lr,
                        betas=betas,
                        eps=eps,
                        r=r,
                        k=0,
                        warmup_steps=warmup_steps,
                        train_mode=False,
                        weight_sum=0.0,
                        lr_max=-1.0,
                        scheduled_lr=0.0,
                        weight_lr_power=weight_lr_power,
                        weight_decay=weight_decay,
                        inner_momentum=inner_momentum,
                        foreach=foreach)
        super().__init__(params, defaults)

    @torch.no_grad()
    def eval(self):
        for group in self.param_groups:
            train_mode = group['train_mode']
            beta1, _ = group['betas']
            if train_mode:
                for p in group['params']:
                    state = self.state[p]
                    if 'z' in state:
                        # Set p to x
                        p.lerp_(end=state['z'].to(p.device), weight=1-1/beta1)
                group['train_mode'] = False

    @torch.no_grad()
    def train(self):
        for group in self.param_groups:
            train_mode = group['train_mode']
            beta1, _ = group['betas']
            if not train_mode:
                for p in group['params']:
                    state = self.state[p]
                    if 'z' in state:
                        # Set p to y
                        p.lerp_(end=state['z'].to(p.device), weight=1-beta1)
                group['train_mode'] = True

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], float]] = None) -> Optional[float]:
        """Performs a single optimization step.

        Arguments:
            closure (callable, optional): A closure that reevaluates the model
                and returns the loss.
        """
        if not self.param_groups[0]['train_mode']:
            raise Exception("Optimizer was not in train mode when step is called. "
                            "Please insert .train() and .eval() calls on the "
                            "optimizer. See documentation for details.")

        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            eps = group['eps']
            beta1, beta2 = group['betas']
            decay = group['weight_decay']
            k = group['k']
            r = group['r']
            warmup_steps = group['warmup_steps']
            weight_lr_power = group['weight_lr_power']
            inner_momentum = group['inner_momentum']

            if k < warmup_steps:
              sched = (k+1) / warmup_steps
            else:
              sched = 1.0

            bias_correction2 = 1 - beta2 ** (k+1)
            if inner_momentum != 0:
                bias_correction1 = 1 - inner_momentum ** (k+1)
            lr = group['lr']*sched
            group['scheduled_lr'] = lr # For logging purposes

            lr_max = group['lr_max'] = max(lr, group['lr_max'])

            weight = ((k+1)**r) * (lr_max**weight_lr_power)
            weight_sum = group['weight_sum'] = group['weight_sum'] + weight

            try:
                ckp1 = weight/weight_sum
            except ZeroDivisionError:
                ckp1 = 0

            active_p = [p for p in group['params'] if p.grad is not None]

            for p in active_p:
                if 'z' not in self.state[p]:
                    self.state[p]['z'] = torch.clone(p, memory_format=torch.preserve_format)
                    self.state[p]['exp_avg_sq'] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if inner_momentum != 0:
                        self.state[p]['exp_avg'] = torch.zeros_like(p, memory_format=torch.preserve_format)

            if group['foreach'] and len(active_p) > 0:
                y, grad, exp_avg_sq, z = zip(*[(p,
                                                p.grad,
                                                self.state[p]['exp_avg_sq'],
                                                self.state[p]['z'])
                                                for p in active_p])

                # Decay the first and second moment running average coefficient
                torch._foreach_mul_(exp_avg_sq, beta2)
                torch._foreach_addcmul_(exp_avg_sq, grad, grad, value=1-beta2)
                denom = torch._foreach_div(exp_avg_sq, bias_correction2)
                torch._foreach_sqrt_(denom)
                torch._foreach_add_(denom, eps)

                if inner_momentum != 0:
                    exp_avg = tuple(self.state[p]['exp_avg'] for p in active_p)
                    # exp_avg = inner_momentum*exp_avg + (1-inner_momentum)*grad
                    torch._foreach_mul_(exp_avg, inner_momentum)
                    torch._foreach_add_(exp_avg, grad, alpha=1-inner_momentum)
                    # grad_normalized = (exp_avg / bias_correction1) / denom
                    grad_normalized = torch._foreach_div(exp_avg, bias_correction1)
                    torch._foreach_div_(grad_normalized, denom)
                else:
                    # Normalize grad in-place for memory efficiency
                    torch._foreach_div_(grad, denom)
                    grad_normalized = grad

                # Weight decay calculated at y
                if decay != 0:
                    torch._foreach_add_(grad_normalized, y, alpha=decay)

                # These operations update y in-place,
                # without computing x explicitly.
                torch._foreach_lerp_(y, z, weight=ckp1)
                torch._foreach_add_(y, grad_normalized, alpha=lr*(beta1*(1-ckp1)-1))

                # z step
                torch._foreach_sub_(z, grad_normalized, alpha=lr)
            else:
                for p in active_p:
                    y = p # Notation to match theory
                    grad = p.grad

                    state = self.state[p]

                    z = state['z']
                    exp_avg_sq = state['exp_avg_sq']

                    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2)
                    denom = exp_avg_sq.div(bias_correction2).sqrt_().add_(eps)

                    if inner_momentum != 0:
                        exp_avg = state['exp_avg']
                        exp_avg.mul_(inner_momentum).add_(grad, alpha=1-inner_momentum)
                        grad_normalized = exp_avg.div(bias_correction1).div_(denom)
                    else:
                        # Reuse grad buffer for memory efficiency
                        grad_normalized = grad.div_(denom)

                    # Weight decay calculated at y
                    if decay != 0:
                        grad_normalized.add_(y, alpha=decay)

                    # These operations update y in-place,
                    # without computing x explicitly.
                    y.lerp_(end=z, weight=ckp1)
                    y.add_(grad_normalized, alpha=lr*(beta1*(1-ckp1)-1))

                    # z step
                    z.sub_(grad_normalized, alpha=lr)

            group['k'] = k+1
        return loss

# ---- facebookresearch/schedule_free @ 70785b53e778d0e872c0bbb75ff4ee54ee10c291: schedulefree/adamw_schedulefree_paper.py (verbatim) ----
# Copyright (c) Meta Platforms, Inc. and affiliates.
# All rights reserved.
# 
# This source code is licensed under the license found in the
# LICENSE file in the root directory of this source tree.
from typing import Tuple, Union, Optional, Iterable, Dict, Callable, Any
from typing_extensions import TypeAlias
import torch
import torch.optim
try:
    from torch.optim.optimizer import ParamsT
except ImportError:
    ParamsT : TypeAlias = Union[Iterable[torch.Tensor], Iterable[Dict[str, Any]]]
import math

class AdamWScheduleFreePaper(torch.optim.Optimizer):
    r"""
    Schedule-Free AdamW
    As the name suggests, no scheduler is needed with this optimizer. 
    To add warmup, rather than using a learning rate schedule you can just
    set the warmup_steps parameter.
    
    This optimizer requires that .train() and .eval() be called before the
    beginning of training and evaluation respectively. The optimizer should
    also be placed in eval mode when saving checkpoints.

    This "paper" version uses a simplified bias correction that can cause 
    instability on some problems. It corresponds to the version used in the
    published experiments in the original paper.
    
    Arguments:
        params (iterable): 
            Iterable of parameters to optimize or dicts defining 
            parameter groups.
        lr (float): 
            Learning rate parameter (default 0.0025)
        betas (Tuple[float, float], optional): coefficients used for computing
            running averages of gradient and its square (default: (0.9, 0.999)).
        eps (float): 
            Term added to the denominator outside of the root operation to 
            improve numerical stability. (default: 1e-8).
        weight_decay (float): 
            Weight decay, i.e. a L2 penalty (default: 0).
        warmup_steps (int): Enables a linear learning rate warmup (default 0).
        r (float): Use polynomial weighting in the average 
            with power r (default 0).
        weight_lr_power (float): During warmup, the weights in the average will
            be equal to lr raised to this power. Set to 0 for no weighting
            (default 2.0).
        foreach (bool): Use a foreach-backed implementation of the optimizer.
            Should be significantly faster, but will have higher peak memory
            usage (default True if supported in your PyTorch version).
    """
    def __init__(self,
                 params: ParamsT,
                 lr: Union[float, torch.Tensor] = 0.0025,
                 betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8,
                 weight_decay: float = 0,
                 warmup_steps: int = 0,
                 r: float = 0.0,
                 weight_lr_power: float = 2.0,
                 foreach: Optional[bool] = hasattr(torch, "_foreach_mul_")
                 ):

        defaults = dict(lr=lr, 
                        betas=betas, 
                        eps=eps,
                        r=r,
                        k=0,
                        warmup_steps=warmup_steps,
                        train_mode=False,
                        weight_sum=0.0,
                        lr_max=-1.0,
                        scheduled_lr=0.0,
                        weight_lr_power=weight_lr_power,
                        weight_decay=weight_decay,
                        foreach=foreach)
        super().__init__(params, defaults)
    
    @torch.no_grad()
    def eval(self):
        for group in self.param_groups:
            train_mode = group['train_mode']
            beta1, _ = group['betas']
            if train_mode:
                for p in group['params']:
                    state = self.state[p]
                    if 'z' in state:
                        # Set p to x
                        p.lerp_(end=state['z'].to(p.device), weight=1-1/beta1)
                group['train_mode'] = False

    @torch.no_grad()
    def train(self):
        for group in self.param_groups:
            train_mode = group['train_mode']
            beta1, _ = group['betas']
            if not train_mode:
                for p in group['params']:
                    state = self.state[p]
                    if 'z' in state:
                        # Set p to y
                        p.lerp_(end=state['z'].to(p.device), weight=1-beta1)
                group['train_mode'] = True

    @torch.no_grad()
    def step(self, closure: Optional[Callable[[], float]] = None) -> Optional[float]:
        """Performs a single optimization step.

        Arguments:
            closure (callable, optional): A closure that reevaluates the model
                and returns the loss.
        """
        if not self.param_groups[0]['train_mode']:
            raise Exception("Optimizer was not in train mode when step is called. "
                            "Please insert .train() and .eval() calls on the "
                            "optimizer. See documentation for details.")

        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        
        for group in self.param_groups:
            eps = group['eps']
            beta1, beta2 = group['betas']
            decay = group['weight_decay']
            k = group['k']
            r = group['r']
            warmup_steps = group['warmup_steps']
            weight_lr_power = group['weight_lr_power']
            
            if k < warmup_steps:
              sched = (k+1) / warmup_steps
            else:
              sched = 1.0
            
            bias_correction2 = 1 - beta2 ** (k+1)
            lr = group['lr']*sched*math.sqrt(bias_correction2)
            group['scheduled_lr'] = lr # For logging purposes
            
            lr_max = group['lr_max'] = max(lr, group['lr_max'])
            
            weight = ((k+1)**r) * (lr_max**weight_lr_power)
            weight_sum = group['weight_sum'] = group['weight_sum'] + weight

            try:
                ckp1 = weight/weight_sum
            except ZeroDivisionError:
                ckp1 = 0

            active_p = [p for p in group['params'] if p.grad is not None]
            
            for p in active_p:
                if 'z' not in self.state[p]:
                    self.state[p]['z'] = torch.clone(p, memory_format=torch.preserve_format)
                    self.state[p]['exp_avg_sq'] = torch.zeros_like(p, memory_format=torch.preserve_format)

            if group['foreach'] and len(active_p) > 0:
                y, grad, exp_avg_sq, z = zip(*[(p, 
                                                p.grad, 
                                                self.state[p]['exp_avg_sq'], 
                                                self.state[p]['z']) 
                                                for p in active_p])

                # Decay the first and second moment running average coefficient
                torch._foreach_mul_(exp_avg_sq, beta2)
                torch._foreach_addcmul_(exp_avg_sq, grad, grad, value=1-beta2)
                denom = torch._foreach_sqrt(exp_avg_sq)
                torch._foreach_add_(denom, eps)

                # Normalize grad in-place for memory efficiency
                torch._foreach_div_(grad, denom)

                # Weight decay calculated at y
                if decay != 0:
                    torch._foreach_add_(grad, y, alpha=decay)

                # These operations update y in-place,
                # without computing x explicitly.
                torch._foreach_lerp_(y, z, weight=ckp1)
                torch._foreach_add_(y, grad, alpha=lr*(beta1*(1-ckp1)-1))

                # z step
                torch._foreach_sub_(z, grad, alpha=lr)
            else:
                for p in active_p:
                    y = p # Notation to match theory
                    grad = p.grad

                    state = self.state[p]

                    z = state['z']
                    exp_avg_sq = state['exp_avg_sq']

                    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2)
                    denom = exp_avg_sq.sqrt().add_(eps)

                    # Reuse grad buffer for memory efficiency
                    grad_normalized = grad.div_(denom)

                    # Weight decay calculated at y
                    if decay != 0:
                        grad_normalized.add_(y, alpha=decay)

                    # These operations update y in-place,
                    # without computing x explicitly.
                    y.lerp_(end=z, weight=ckp1)
                    y.add_(grad_normalized, alpha=lr*(beta1*(1-ckp1)-1))

                    # z step
                    z.sub_(grad_normalized, alpha=lr)

            group['k'] = k+1
        return loss

# ---- the harness ----
SIZE = 37
STEPS = 8
EVAL_AFTER = 4  # eval() and train() after this step and after the last
EDGES = [0.0, -0.0, 1e-30, -1e-30, 1e20, -1e20, 1.0, -1.0]

# (library name, upstream class, library options (camelCase), upstream keyword arguments)
CASES = [
    ("adamw_schedule_free", AdamWScheduleFree, {}, {}),
    ("adamw_schedule_free", AdamWScheduleFree, {"warmupSteps": 3}, {"warmup_steps": 3}),
    ("adamw_schedule_free", AdamWScheduleFree, {"weightDecay": 0.1, "r": 1, "weightLrPower": 1, "betas": [0.8, 0.99]}, {"weight_decay": 0.1, "r": 1.0, "weight_lr_power": 1.0, "betas": (0.8, 0.99)}),
    ("adamw_schedule_free", AdamWScheduleFree, {"lr": 0.01, "eps": 1e-3, "warmupSteps": 5, "weightLrPower": 3}, {"lr": 0.01, "eps": 1e-3, "warmup_steps": 5, "weight_lr_power": 3.0}),
    ("adamw_schedule_free", AdamWScheduleFree, {"innerMomentum": 0.9}, {"inner_momentum": 0.9}),
    ("adamw_schedule_free", AdamWScheduleFree, {"innerMomentum": 0.5, "weightDecay": 0.05, "warmupSteps": 2, "r": 0.5, "weightLrPower": 0, "lr": 0.01, "betas": [0.95, 0.9]}, {"inner_momentum": 0.5, "weight_decay": 0.05, "warmup_steps": 2, "r": 0.5, "weight_lr_power": 0.0, "lr": 0.01, "betas": (0.95, 0.9)}),
    ("adamw_schedule_free_paper", AdamWScheduleFreePaper, {}, {}),
    ("adamw_schedule_free_paper", AdamWScheduleFreePaper, {"warmupSteps": 3}, {"warmup_steps": 3}),
    ("adamw_schedule_free_paper", AdamWScheduleFreePaper, {"weightDecay": 0.1, "r": 1, "weightLrPower": 1, "betas": [0.8, 0.99]}, {"weight_decay": 0.1, "r": 1.0, "weight_lr_power": 1.0, "betas": (0.8, 0.99)}),
    ("adamw_schedule_free_paper", AdamWScheduleFreePaper, {"lr": 0.01, "eps": 1e-3, "warmupSteps": 5, "r": 0.5}, {"lr": 0.01, "eps": 1e-3, "warmup_steps": 5, "r": 0.5}),
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
            g[len(EDGES):] *= -1
        out.append(g)
    return out


def snapshot(param):
    return b64(param.detach().numpy())


def run(case_index, upstream_class, kwargs):
    rng = np.random.default_rng(2000 + case_index)
    p0 = (rng.standard_normal(SIZE) * 1e-2).astype(np.float32)
    param = torch.nn.Parameter(torch.tensor(p0))
    optimizer = upstream_class([param], foreach=False, **kwargs)
    optimizer.train()
    grads = gradients(100 + case_index)
    params, switches = [], []
    for step, g in enumerate(grads, start=1):
        param.grad = torch.tensor(g)  # a copy: the upstream step divides the gradient in place
        optimizer.step()
        params.append(snapshot(param))
        if step in (EVAL_AFTER, STEPS):
            optimizer.eval()
            at_eval = snapshot(param)
            optimizer.train()
            switches.append({"afterStep": step, "eval": at_eval, "train": snapshot(param)})
    state = {k: b64(v.numpy()) for k, v in optimizer.state[param].items()}
    return {"params0": b64(p0), "grads": [b64(g) for g in grads], "params": params, "switches": switches, "state": state}


# PyTorch's step rule (grad None): two tensors; ABSENT[step - 1] lists the tensors whose grad is
# None at that step. Tensor 1 has none at its first two steps (upstream makes no state for it, and
# eval()/train() after step 2 pass it by), step 5 has no gradient at all (k still advances).
SKIP_SIZES = [SIZE, 21]
ABSENT = [[1], [1], [0], [], [0, 1], [1], [], [0]]
SKIP_SWITCHES = (2, 5, STEPS)
SKIP_CASES = [
    ("adamw_schedule_free", AdamWScheduleFree, {}, {}),
    ("adamw_schedule_free", AdamWScheduleFree, {"innerMomentum": 0.9, "warmupSteps": 3, "weightDecay": 0.1, "r": 1, "betas": [0.8, 0.99]}, {"inner_momentum": 0.9, "warmup_steps": 3, "weight_decay": 0.1, "r": 1.0, "betas": (0.8, 0.99)}),
    ("adamw_schedule_free_paper", AdamWScheduleFreePaper, {"warmupSteps": 3, "weightDecay": 0.1}, {"warmup_steps": 3, "weight_decay": 0.1}),
]


def run_skipping(case_index, upstream_class, kwargs):
    rng = np.random.default_rng(3000 + case_index)
    p0 = [(rng.standard_normal(n) * 1e-2).astype(np.float32) for n in SKIP_SIZES]
    params = [torch.nn.Parameter(torch.tensor(p)) for p in p0]
    optimizer = upstream_class(params, foreach=False, **kwargs)
    optimizer.train()
    grads = [[gradients(200 + 10 * case_index + t)[step][:n] for t, n in enumerate(SKIP_SIZES)] for step in range(STEPS)]
    steps, switches = [], []
    for step, gs in enumerate(grads, start=1):
        for t, param in enumerate(params):
            param.grad = None if t in ABSENT[step - 1] else torch.tensor(gs[t])
        optimizer.step()
        steps.append([snapshot(p) for p in params])
        if step in SKIP_SWITCHES:
            optimizer.eval()
            at_eval = [snapshot(p) for p in params]
            optimizer.train()
            switches.append({"afterStep": step, "eval": at_eval, "train": [snapshot(p) for p in params]})
    state = [{k: b64(v.numpy()) for k, v in optimizer.state[p].items()} for p in params]
    return {
        "params0": [b64(p) for p in p0],
        "grads": [[None if t in ABSENT[step] else b64(g) for t, g in enumerate(gs)] for step, gs in enumerate(grads)],
        "params": steps,
        "switches": switches,
        "state": state,
    }


def main():
    out = {"torch": torch.__version__, "source": "facebookresearch/schedule_free@70785b53e778d0e872c0bbb75ff4ee54ee10c291", "size": SIZE, "steps": STEPS, "cases": [], "skipCases": []}
    for index, (name, upstream_class, options, kwargs) in enumerate(CASES):
        out["cases"].append({"name": name, "options": options, **run(index, upstream_class, dict(kwargs))})
    for index, (name, upstream_class, options, kwargs) in enumerate(SKIP_CASES):
        out["skipCases"].append({"name": name, "options": options, **run_skipping(index, upstream_class, dict(kwargs))})
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "schedule-free.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
