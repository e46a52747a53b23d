"""webgpu-optim optimizer checkpoints <-> torch.optim, with numpy (and torch for the optimizer).

A checkpoint is one safetensors file (written by `toTorchCheckpoint` in JavaScript):
tensors `state.<i>.<slot>` (float32, flat) and metadata `format`, `version`, `optimizer` (the
torch.optim class name), `param_groups` (JSON, PyTorch's keys) and `scalars` (JSON, `{i: {step,
mu_product?}}`). Parameter i is the i-th parameter of the optimizer's param_groups, in order.

    import torch, webgpu_optim_torch as w
    opt = torch.optim.Adam(model.parameters())
    w.load_into(opt, "adam.safetensors")      # state and hyperparameters from the file
    ...
    w.save_from(opt, "adam.safetensors")      # and back, for fromTorchCheckpoint in JavaScript

`read_safetensors` needs numpy only; the `safetensors` package reads the same files.
"""
import json
import struct

import numpy as np

FORMAT = "webgpu-optim/torch-optimizer"
VERSION = 1
# torch 1.13 keeps these optimizers' `step` as a Python int, the others' as a 0-d float tensor.
INT_STEP = {"RMSprop", "Adadelta", "Rprop"}


def read_safetensors(path):
    """(tensors as float32 numpy arrays by name, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {entry['dtype']}, not F32")
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[8 + length + begin : 8 + length + end], dtype="<f4").reshape(entry["shape"])
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
        blobs.append(array.tobytes())
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_into(optimizer, path):
    """Loads the file's state and hyperparameters into a torch.optim optimizer of the same class
    whose param_groups hold the same parameters in the same order."""
    import torch

    tensors, meta = read_safetensors(path)
    cls = type(optimizer).__name__
    if meta.get("format") != FORMAT or int(meta.get("version", 0)) != VERSION:
        raise ValueError(f"{path}: not a {FORMAT} v{VERSION} file")
    if meta["optimizer"] != cls:
        raise ValueError(f"{path} holds torch.optim.{meta['optimizer']} state, not {cls}")
    groups, scalars = json.loads(meta["param_groups"]), json.loads(meta["scalars"])
    params = [p for g in optimizer.param_groups for p in g["params"]]
    state = {}
    for i, p in enumerate(params):
        entry = {}
        for key, value in scalars.get(str(i), {}).items():
            if key == "step":
                entry[key] = int(value) if cls in INT_STEP else torch.tensor(float(value))
            else:
                entry[key] = torch.tensor(float(value))
        prefix = f"state.{i}."
        for name, array in tensors.items():
            if name.startswith(prefix):
                entry[name[len(prefix) :]] = torch.from_numpy(array.copy()).reshape(p.shape).to(p.device)
        state[i] = entry
    live = optimizer.state_dict()["param_groups"]
    if len(live) != len(groups):
        raise ValueError(f"{path}: {len(groups)} param groups, the optimizer has {len(live)}")
    merged = []
    for own, saved in zip(live, groups):
        hyper = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k not in ("params", "param_names")}
        merged.append({**own, **hyper, "params": own["params"]})
    optimizer.load_state_dict({"state": state, "param_groups": merged})


def save_from(optimizer, path, names=None):
    """Writes a torch.optim optimizer's state in the file format above (names: one per parameter)."""
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for i, entry in sd["state"].items():
        scalars[str(i)] = {}
        for key, value in entry.items():
            if key == "step" or (hasattr(value, "dim") and value.dim() == 0):
                scalars[str(i)][key] = float(value)
            elif value is not None:
                tensors[f"state.{i}.{key}"] = value.detach().cpu().reshape(-1).numpy()
    groups = []
    for g in sd["param_groups"]:
        group = {k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
        if names is not None:
            group["param_names"] = [names[i] for i in g["params"]]
        groups.append(group)
    write_safetensors(path, tensors, {
        "format": FORMAT, "version": str(VERSION), "optimizer": type(optimizer).__name__,
        "param_groups": json.dumps(groups), "scalars": json.dumps(scalars),
    })
