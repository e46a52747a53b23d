"""Model weights as standard safetensors files (docs/checkpoint-format.md, rule 10): one F32
tensor per parameter, keyed by its name (`model.named_parameters()`, as `model.state_dict()`
keys it), in its real shape; metadata format "webgpu-optim/weights", version "1". What the
library's saveWeights writes for a ParameterSet and loadWeights reads back; the `safetensors`
package (`safetensors.torch.load_file`) reads them too."""
import os

import numpy as np
import torch

from .checkpoint import FORMAT as OPTIMIZER_FORMAT
from .errors import CheckpointError, shown
from .matching import named_tensors
from .safetensors import read_safetensors, write_safetensors

WEIGHTS_FORMAT = "webgpu-optim/weights"
WEIGHTS_VERSION = "1"


def _listed(names, limit=6):
    names = sorted(names)
    return ", ".join(repr(n) for n in names[:limit]) + (f", … ({len(names)} in all)" if len(names) > limit else "")


def save_weights(model, path):
    """Writes the parameters of `model` (a torch.nn.Module, or a mapping name -> tensor) as float32."""
    targets = named_tensors(model, "model")
    for name, tensor in targets.items():
        if not torch.is_tensor(tensor) or not tensor.is_floating_point():
            raise ValueError(f"save_weights: parameter {name!r} is {getattr(tensor, 'dtype', type(tensor).__name__)}, not a floating-point tensor")
    arrays = {name: t.detach().cpu().to(torch.float32).numpy() for name, t in targets.items()}
    write_safetensors(path, arrays, {"format": WEIGHTS_FORMAT, "version": WEIGHTS_VERSION})


def load_weights(model, path):
    """Copies a weights file into the parameters of `model` (a torch.nn.Module, or a mapping name ->
    tensor), matched by name and shape. Any standard F32 safetensors file keyed by the parameter
    names is accepted. A missing, extra or mis-shaped tensor, or a malformed file, raises
    CheckpointError (a ValueError) naming the file and the tensor before any parameter changes."""
    source = os.fspath(path)
    targets = named_tensors(model, "model")
    tensors, metadata = read_safetensors(path)
    fmt = metadata.get("format")
    if fmt == OPTIMIZER_FORMAT:
        raise CheckpointError(f"{source}: an optimizer checkpoint, not model weights (load it with load_into)")
    if fmt == WEIGHTS_FORMAT and metadata.get("version") != WEIGHTS_VERSION:
        raise CheckpointError(f"{source}: metadata version {shown(metadata.get('version'))} is not {shown(WEIGHTS_VERSION)}")
    missing, extra = set(targets) - set(tensors), set(tensors) - set(targets)
    if missing:
        raise CheckpointError(f"{source}: no tensor for the model's parameter{'s' * (len(missing) > 1)} {_listed(missing)}")
    if extra:
        raise CheckpointError(f"{source}: tensor{'s' * (len(extra) > 1)} {_listed(extra)} {'are' if len(extra) > 1 else 'is'} not among the model's parameters ({_listed(targets)})")
    for name, target in targets.items():
        if not torch.is_tensor(target) or not target.is_floating_point():
            raise ValueError(f"load_weights: the model's {name!r} is not a floating-point tensor")
        if tuple(tensors[name].shape) != tuple(target.shape):
            raise CheckpointError(f"{source}: tensor {name!r} has shape {list(tensors[name].shape)}, the model's parameter is {list(target.shape)}")
    with torch.no_grad():
        for name, target in targets.items():
            target.copy_(torch.from_numpy(np.array(tensors[name])))
