"""The PyTorch side of tests/unit/torch-checkpoint.test.ts (run by it with Debian's python3-torch).

    forward <io> <checkpoint> <out>: the optimizer of io's param_groups over io's parameters, the
        checkpoint loaded into it (load_into), one step with io's gradient 0; writes the parameters
        to <out> and the state to <out>.ckpt (save_from)
    reverse <io> <out>: the same optimizer from scratch, one step per gradient in io; writes the
        parameters to <out> and the state to <out>.ckpt
"""
import inspect
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import webgpu_optim_torch as w  # noqa: E402

mode, io = sys.argv[1], sys.argv[2]
tensors, meta = w.read_safetensors(io)
shapes = json.loads(meta["shapes"])
params = [torch.tensor(tensors[f"param.{i}"].reshape(shape).copy(), requires_grad=True) for i, shape in enumerate(shapes)]
groups = json.loads(meta["param_groups"])
cls = getattr(torch.optim, meta["optimizer"])
hyper = [{k: tuple(v) if isinstance(v, list) else v for k, v in g.items() if k not in ("params", "param_names")} for g in groups]
# Group 0's values are also the constructor's: torch 1.13's Adagrad fills `sum` from the
# constructor's initial_accumulator_value, not the group's.
accepted = inspect.signature(cls).parameters
optimizer = cls([{**h, "params": [params[i] for i in g["params"]]} for h, g in zip(hyper, groups)], **{k: v for k, v in hyper[0].items() if k in accepted})


def step(k):
    for i, p in enumerate(params):
        p.grad = torch.tensor(tensors[f"grad.{k}.{i}"].reshape(shapes[i]).copy())
    optimizer.step()


if mode == "forward":
    w.load_into(optimizer, sys.argv[3])
    out = sys.argv[4]
    step(0)
else:
    out = sys.argv[3]
    for k in range(int(meta["steps"])):
        step(k)
w.save_from(optimizer, out + ".ckpt")
w.write_safetensors(out, {f"param.{i}": p.detach().numpy().reshape(-1) for i, p in enumerate(params)}, {})
