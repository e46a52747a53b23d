"""What the Python tests share: the package from this folder's parent (not an installed copy),
files built by hand, and the optimizers the tests load into."""
import copy
import json
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import webgpu_optim_torch as w  # noqa: E402

CLASSES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Rprop"]
# Options that give each class every state slot it can have.
OPTIONS = {"SGD": {"lr": 0.1, "momentum": 0.9}, "RMSprop": {"momentum": 0.9, "centered": True}, "Adam": {"amsgrad": True}}


def raw_file(header, data=b"", pad=True):
    """A safetensors file from a header (a dict, dumped with NaN allowed, or the JSON text) and the data bytes."""
    text = (header if isinstance(header, str) else json.dumps(header)).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Model(torch.nn.Module):
    """A 2 x 3 weight and a bias of 2, named as a browser-side parameter set would name them."""

    def __init__(self, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randn(2, 3, generator=generator))
        self.bias = torch.nn.Parameter(torch.randn(2, generator=generator))

    def forward(self, x):
        return x @ self.weight.T + self.bias


def two_groups(cls_name, model, lr_scale=0.5):
    """torch.optim.<cls_name> over the model in two groups: [weight], [bias] (a smaller lr)."""
    cls = getattr(torch.optim, cls_name)
    options = dict(OPTIONS.get(cls_name, {}))
    lr = options.get("lr", cls([torch.zeros(1, requires_grad=True)], **({"lr": 0.1} if cls_name == "SGD" else {})).defaults["lr"])
    return cls([{"params": [model.weight]}, {"params": [model.bias], "lr": lr * lr_scale}], **options)


def train(model, optimizer, steps, seed=1):
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        optimizer.zero_grad()
        x = torch.randn(4, 3, generator=generator)
        model(x).square().sum().backward()
        optimizer.step()


def snapshot(optimizer):
    """Everything load_into may change, deep-copied for comparison."""
    return copy.deepcopy(optimizer.state_dict())


def same(a, b):
    """Whether two state dicts (or values in them) are equal, tensors bit for bit."""
    if torch.is_tensor(a) or torch.is_tensor(b):
        return torch.is_tensor(a) and torch.is_tensor(b) and a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


class FileTestCase(unittest.TestCase):
    """A temporary folder per test, and an assertion that a load is refused with nothing changed."""

    def setUp(self):
        self._folder = tempfile.TemporaryDirectory()
        self.folder = self._folder.name

    def tearDown(self):
        self._folder.cleanup()

    def path(self, name="file.safetensors"):
        return os.path.join(self.folder, name)

    def write(self, data, name="file.safetensors"):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assertRefused(self, load, target_state, pattern, *patterns):
        """load() raises CheckpointError whose message matches every pattern, and target_state()
        (a snapshot) is what it was before."""
        before = target_state()
        with self.assertRaises(w.CheckpointError) as caught:
            load()
        for p in (pattern, *patterns):
            self.assertRegex(str(caught.exception), p)
        self.assertTrue(same(before, target_state()), "the refused load changed the target")
        return str(caught.exception)


__all__ = ["np", "torch", "w"]
