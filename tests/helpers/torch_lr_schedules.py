"""The learning rates torch.optim.lr_scheduler gives, for tests/unit/schedules-torch.test.ts.

Reads a JSON list of cases on stdin and writes, for each, the lr of every param group before
each optimizer step (torch's loop: optimizer.step(), then scheduler.step()). A case:
  {"scheduler": {"name": "MultiStepLR", "kwargs": {...}}, "lrs": [0.1, 0.03], "steps": 100}
  SequentialLR: {"name": "SequentialLR", "schedulers": [spec, ...], "milestones": [...]}
  ReduceLROnPlateau: "metrics": [...] instead of "steps" (null stands for NaN, "inf" and "-inf" for the infinities); the plateau is
  stepped with each metric in turn, and the lrs after the last step are appended.
"""
import json
import sys
import warnings

import torch
from torch.optim import lr_scheduler

warnings.simplefilter("ignore")


def make(optimizer, spec):
    if spec["name"] == "SequentialLR":
        parts = [make(optimizer, part) for part in spec["schedulers"]]
        return lr_scheduler.SequentialLR(optimizer, parts, milestones=spec["milestones"])
    return getattr(lr_scheduler, spec["name"])(optimizer, **spec.get("kwargs", {}))


def run(case):
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in case["lrs"]]
    optimizer = torch.optim.SGD(groups, lr=case["lrs"][0])
    scheduler = make(optimizer, case["scheduler"])
    current = lambda: [group["lr"] for group in optimizer.param_groups]
    seen = []
    if "metrics" in case:
        for metric in case["metrics"]:
            seen.append(current())
            optimizer.step()
            scheduler.step(float("nan") if metric is None else float(metric))
        seen.append(current())
        return seen
    for _ in range(case["steps"]):
        seen.append(current())
        optimizer.step()
        scheduler.step()
    return seen


if __name__ == "__main__":
    json.dump([run(case) for case in json.load(sys.stdin)], sys.stdout)
