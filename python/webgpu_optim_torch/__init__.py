"""webgpu-optim's files in Python: optimizer checkpoints <-> torch.optim, model weights <->
torch.nn.Module, and a safetensors reader that trusts nothing (docs/checkpoint-format.md).

    import torch, webgpu_optim_torch as w
    w.load_weights(model, "model.safetensors")     # the parameters, by name
    opt = torch.optim.Adam(...)                     # the groups the file has (see README)
    w.load_into(opt, "adam.safetensors", model=model)
    ...
    w.save_weights(model, "model.safetensors")
    w.save_from(opt, "adam.safetensors", model=model)

read_safetensors / write_safetensors need numpy only; the rest imports torch when first used.
Every refusal is a CheckpointError (a ValueError) naming the file, the field and the value, raised
before anything changes.
"""
from .errors import CheckpointError
from .safetensors import decode_safetensors, encode_safetensors, read_safetensors, write_safetensors

FORMAT = "webgpu-optim/torch-optimizer"
VERSION = "1"
WEIGHTS_FORMAT = "webgpu-optim/weights"

_WITH_TORCH = {"load_into": "checkpoint", "save_from": "checkpoint", "load_weights": "weights", "save_weights": "weights"}

__all__ = ["CheckpointError", "FORMAT", "VERSION", "WEIGHTS_FORMAT", "decode_safetensors", "encode_safetensors", "read_safetensors", "write_safetensors", *_WITH_TORCH]


def __getattr__(name):
    """The torch-backed functions, imported on first use so the reader works without torch."""
    if name in _WITH_TORCH:
        import importlib

        return getattr(importlib.import_module(f".{_WITH_TORCH[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
