"""Optimizer checkpoints (format "webgpu-optim/torch-optimizer", version "1") <-> torch.optim.

The file (docs/checkpoint-format.md, rules 6-9): tensors `state.<i>.<slot>` (float32, the
parameter's shape or flat), metadata `format`, `version`, `optimizer` (the torch.optim class),
`param_groups` (JSON: torch's keys, `params` as indices 0..n-1 in order, optional `param_names`)
and `scalars` (JSON: `{"i": {"step": n, "mu_product": x}}`). Parameter i is the i-th parameter of
the optimizer's param_groups in order, or the one `model.named_parameters()` calls param_names[i].
"""
import json
import os
import re
from collections.abc import Mapping

import torch

from . import strict_json
from .errors import CheckpointError, shown
from .hyperparameters import KNOWN_CLASSES, group_updates
from .matching import by_names, by_order, named_tensors
from .safetensors import MAX_SAFE_INTEGER, read_safetensors, write_safetensors
from .slots import slots_for, torch_class
from .nadam import mu_product as nadam_mu_product

FORMAT = "webgpu-optim/torch-optimizer"
VERSION = "1"
STATE_NAME = re.compile(r"state\.(0|[1-9][0-9]*)\.([A-Za-z_][A-Za-z0-9_]*)")
INDEX = re.compile(r"0|[1-9][0-9]*")


class _File:
    """One checkpoint's checked parts; `fail(why)` raises naming the file."""

    def __init__(self, source, tensors, metadata):
        self.source, self.tensors, self.metadata = source, tensors, metadata

    def fail(self, why):
        raise CheckpointError(f"{self.source}: {why}")

    def meta_json(self, key):
        try:
            return strict_json.loads(self.metadata[key])
        except ValueError as error:
            self.fail(f"metadata {key} is {error}")


def _check_header(f, cls):
    fmt = f.metadata.get("format")
    if fmt is None and not any(k.startswith("state.") for k in f.tensors):
        f.fail(f"no metadata format: not an optimizer checkpoint ({FORMAT}); model weights load with load_weights")
    if fmt is not None and fmt != FORMAT:
        hint = " (model weights: load them with load_weights)" if fmt == "webgpu-optim/weights" else ""
        f.fail(f"metadata format {shown(fmt)} is not {shown(FORMAT)}{hint}")
    for key in ("format", "version", "optimizer", "param_groups", "scalars"):
        if key not in f.metadata:
            f.fail(f"metadata has no {key!r} (a {FORMAT} file has format, version, optimizer, param_groups and scalars)")
    if f.metadata["version"] != VERSION:
        f.fail(f"metadata version {shown(f.metadata['version'])} is not {shown(VERSION)}")
    saved = f.metadata["optimizer"]
    if saved not in KNOWN_CLASSES:
        f.fail(f"metadata optimizer {shown(saved)} is not a torch.optim class this format covers ({', '.join(KNOWN_CLASSES)})")
    if cls is None:
        f.fail(f"the file holds torch.optim.{saved} state; the optimizer is not a torch.optim optimizer this format covers")
    if saved != cls.__name__:
        f.fail(f"the file holds torch.optim.{saved} state, the optimizer is torch.optim.{cls.__name__}")


def _check_groups(f):
    groups = f.meta_json("param_groups")
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        f.fail(f"metadata param_groups {shown(groups)} is not a list of objects")
    n, seen_names = 0, set()
    for k, group in enumerate(groups):
        params = group.get("params")
        if not isinstance(params, list) or params != list(range(n, n + len(params))) or not all(type(i) is int for i in params):
            f.fail(f"group {k}: params {shown(params)} are not the indices {n}, {n + 1}, … (each group continues where the one before ends)")
        n += len(params)
    for k, group in enumerate(groups):
        params, names = group["params"], group.get("param_names")
        if names is None and "param_names" not in group:
            continue
        if not isinstance(names, list) or len(names) != len(params) or not all(isinstance(s, str) for s in names):
            f.fail(f"group {k}: param_names {shown(names)} is not a list of {len(params)} strings (one per parameter)")
        for name in names:
            if name in seen_names:
                f.fail(f"group {k}: param_names has {name!r} twice")
            seen_names.add(name)
    return groups, n


def _check_scalars(f, n):
    scalars = f.meta_json("scalars")
    if not isinstance(scalars, dict):
        f.fail(f"metadata scalars {shown(scalars)} is not an object")
    for key, values in scalars.items():
        if not INDEX.fullmatch(key) or int(key) >= n:
            f.fail(f"scalars has key {shown(key)}, not a parameter index (0..{n - 1})")
        if not isinstance(values, dict):
            f.fail(f"scalars of tensor {key}: {shown(values)} is not an object")
        for slot, value in values.items():
            if type(value) not in (int, float) or not abs(value) <= 1.7976931348623157e308:
                f.fail(f"tensor {key}: scalar {slot} is {shown(value)}, not a finite number")
        if "step" in values:
            step = values["step"]
            if not (step >= 0 and step == int(step) and step < 2**53):
                f.fail(f"tensor {key}: step {shown(step)} is not an integer in 0..2^53 - 1")
        if "mu_product" in values and not 0 <= values["mu_product"] <= 1:
            f.fail(f"tensor {key}: mu_product {shown(values['mu_product'])} is not in [0, 1] (a product of NAdam's momentum factors)")
    return scalars


def _state_tensors(f, n):
    """{index: {slot: array}} from the file's tensors; a name that is not state.<i>.<slot> is refused."""
    found = {}
    for name, array in f.tensors.items():
        match = STATE_NAME.fullmatch(name)
        if not match or int(match.group(1)) >= n:
            f.fail(f"tensor {name!r} has no place in the optimizer (names are state.<i>.<slot>, i in 0..{n - 1})")
        found.setdefault(int(match.group(1)), {})[match.group(2)] = array
    return found


def _scalar_value(fail, key, example, value):
    """`value` as torch keeps the scalar `example` (a Python int, or a tensor of that dtype and
    shape). A step that dtype cannot hold exactly (float32: integers up to 2^24), or a value it
    turns infinite, is refused: torch would not hold what the file says."""
    if not torch.is_tensor(example):
        return int(value) if isinstance(example, int) else float(value)
    held = torch.full(example.shape, float(value), dtype=example.dtype)
    if not torch.isfinite(held).all() or (key == "step" and held.flatten()[0].item() != value):
        fail(f"scalar {key!r} {shown(value)} is not held exactly by this torch's {key} ({str(example.dtype).replace('torch.', '')})")
    return held


def _param_state(f, where, i, param, slots, arrays, scalars):
    """The torch state of one parameter from the file's arrays and scalars, checked against the
    slots this class keeps with this group's hyperparameters."""
    for slot in arrays:
        if slot not in slots.tensor:
            f.fail(f"{where}: state.{i}.{slot} has no place in this optimizer (its state is {', '.join(sorted(slots.tensor)) or 'no tensors'} with these hyperparameters)")
    for key in scalars:
        if key not in slots.scalars and key != "step":
            f.fail(f"{where}: scalar {key!r} has no place in this optimizer (it keeps {', '.join(sorted(slots.scalars)) or 'none'})")
    entry = {}
    if not arrays and not slots.eager and slots.tensor:
        if any(k != "step" for k in scalars) or scalars.get("step", 0) != 0:
            f.fail(f"{where}: scalars {shown(scalars)} but no state tensors ({', '.join(sorted(slots.tensor))}); a parameter without state has step 0")
        return entry
    for slot in sorted(slots.tensor):
        if slot not in arrays:
            f.fail(f"{where}: state.{i}.{slot} is missing (this optimizer keeps {', '.join(sorted(slots.tensor))})")
        array, shape = arrays[slot], tuple(param.shape)
        if array.shape != shape and array.shape != (param.numel(),):
            f.fail(f"{where}: state.{i}.{slot} has shape {list(array.shape)}, the parameter is {list(shape)} (or flat [{param.numel()}])")
        entry[slot] = torch.from_numpy(array.copy()).reshape(shape)
    for key, example in slots.scalars.items():
        if key not in scalars:
            f.fail(f"{where}: scalar {key!r} is missing (required with state)")
        entry[key] = _scalar_value(lambda why: f.fail(f"{where}: {why}"), key, example, scalars[key])
    if "step" in scalars and "step" not in slots.scalars:  # SGD keeps none; carried so save_from writes it back
        entry["step"] = int(scalars["step"])  # exact (a float32 tensor would round past 2^24)
    return entry


def _where(k, i, names):
    return f"group {k}, tensor {i}" + (f" ({names[i]!r})" if i in names else "")


def plan_load(optimizer, path, tensors, metadata, named=None):
    """The state dict `optimizer.load_state_dict` takes for the file, every rule checked first."""
    f = _File(os.fspath(path), tensors, metadata)
    cls = torch_class(optimizer)
    _check_header(f, cls)
    groups, n = _check_groups(f)
    scalars = _check_scalars(f, n)
    arrays = _state_tensors(f, n)
    if named is None:
        params, group_map = by_order(f.source, cls.__name__, groups, optimizer)
    else:
        params, group_map = by_names(f.source, cls.__name__, groups, optimizer, named)
    own = optimizer.state_dict()["param_groups"]
    merged = [dict(g) for g in own]
    names = {i: name for g in groups for i, name in zip(g["params"], g.get("param_names") or [])}
    for k, group in enumerate(groups):

        def fail(key, value, expected, k=k):
            f.fail(f"group {k}: {key} is {shown(value)}, expected {expected}")

        merged[group_map[k]].update(group_updates(cls.__name__, group, own[group_map[k]], fail))
    try:  # torch's own constructor checks as well, for what a newer torch adds
        for k, g in enumerate(group_map):
            slots_for(cls, merged[g])
    except Exception as error:  # noqa: BLE001 - whatever torch raises for them, the file is refused naming the group
        f.fail(f"group {k}: torch.optim.{cls.__name__} refuses its hyperparameters: {error}")
    position = {id(p): j for j, p in enumerate(p for g in optimizer.param_groups for p in g["params"])}
    state = {}
    for k, group in enumerate(groups):
        slots = slots_for(cls, merged[group_map[k]])
        for i in group["params"]:
            values = scalars.get(str(i), {})
            entry = _param_state(f, _where(k, i, names), i, params[i][1], slots, arrays.get(i, {}), values)
            if cls.__name__ == "NAdam" and "mu_product" in values and "step" in values:
                g = merged[group_map[k]]
                expected = nadam_mu_product(g["betas"][0], g["momentum_decay"], values["step"])
                if values["mu_product"] != expected:
                    f.fail(f"{_where(k, i, names)}: mu_product {shown(values['mu_product'])} is not what step {shown(values['step'])}, betas and momentum_decay give ({shown(expected)})")
            if entry:
                state[position[id(params[i][1])]] = entry
    for g, group in zip(merged, optimizer.param_groups):
        g["params"] = [position[id(p)] for p in group["params"]]
    return {"state": state, "param_groups": merged}


def load_into(optimizer, path, *, model=None, names=None):
    """Loads a checkpoint's state and hyperparameters into a torch.optim optimizer of its class.

    By order (default): the optimizer's param_groups are the file's, in order. By name (`model=`
    a torch.nn.Module, or `names=` a mapping name -> parameter or (name, parameter) pairs): the
    file's param_names are looked up among `model.named_parameters()`; each file group must be
    one optimizer group. Every rule of the format is checked before anything is loaded: a file
    that breaks one raises CheckpointError (a ValueError) naming the file, the group, the tensor
    and the value, and leaves the optimizer as it was."""
    if model is not None and names is not None:
        raise TypeError("load_into: pass model= or names=, not both")
    named = None
    if model is not None:
        named = named_tensors(model, "model")
    elif names is not None:
        named = named_tensors(names, "names")
    tensors, metadata = read_safetensors(path)
    optimizer.load_state_dict(plan_load(optimizer, path, tensors, metadata, named))


def _json_value(value):
    if isinstance(value, tuple):
        value = list(value)
    if torch.is_tensor(value) and value.numel() == 1:
        value = value.item()
    return value


def _file_names(optimizer, model, names):
    """One name per parameter (in param_groups order), or None."""
    params = [p for g in optimizer.param_groups for p in g["params"]]
    if names is not None and (isinstance(names, Mapping) or hasattr(names, "named_parameters")):
        model, names = names, None
    if model is not None:
        by_id = {id(t): name for name, t in named_tensors(model, "model").items()}
        missing = [i for i, p in enumerate(params) if id(p) not in by_id]
        if missing:
            raise ValueError(f"save_from: parameter {missing[0]} of the optimizer is not one of the model's named_parameters()")
        return [by_id[id(p)] for p in params]
    if names is None:
        return None
    names = list(names)
    if len(names) != len(params) or not all(isinstance(s, str) for s in names) or len(set(names)) != len(names):
        raise ValueError(f"save_from: names must be {len(params)} distinct strings, one per parameter in param_groups order, got {shown(names)}")
    return names


def save_from(optimizer, path, *, model=None, names=None):
    """Writes a torch.optim optimizer's state and hyperparameters as a checkpoint that
    `fromTorchCheckpoint` (JavaScript) and `load_into` read. `model=` (a torch.nn.Module, or a
    mapping name -> parameter) or `names=` (one name per parameter in param_groups order, or such a
    mapping) stores the parameters' names as `param_names`. Tensors are written in the parameter's
    shape; the step as an integer."""
    cls = torch_class(optimizer)
    if cls is None:
        raise ValueError(f"save_from: {type(optimizer).__name__} is not a torch.optim optimizer the format covers ({', '.join(KNOWN_CLASSES)})")
    file_names = _file_names(optimizer, model, names)
    sd = optimizer.state_dict()
    params = [p for g in optimizer.param_groups for p in g["params"]]
    tensors, scalars, groups = {}, {}, []
    for g, group in zip(sd["param_groups"], optimizer.param_groups):
        slots = slots_for(cls, g)
        for i in g["params"]:
            scalars[str(i)] = {}
            for key, value in sd["state"].get(i, {}).items():
                if value is None:
                    continue
                if key in slots.tensor:
                    tensors[f"state.{i}.{key}"] = value.detach().cpu().float().reshape(params[i].shape).numpy()
                else:
                    scalars[str(i)][key] = float(value) if key != "step" or not float(value).is_integer() else int(value)
        saved = {k: _json_value(v) for k, v in g.items()}
        if file_names is not None:
            saved["param_names"] = [file_names[i] for i in g["params"]]
        groups.append(saved)
    try:
        metadata = {"format": FORMAT, "version": VERSION, "optimizer": cls.__name__, "param_groups": json.dumps(groups, allow_nan=False), "scalars": json.dumps(scalars, allow_nan=False)}
    except (TypeError, ValueError) as error:
        raise ValueError(f"save_from: the optimizer's hyperparameters or scalars are not finite JSON values ({error})") from None
    write_safetensors(path, tensors, metadata)
