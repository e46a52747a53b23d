"""Which state a torch.optim optimizer keeps per parameter, asked of torch itself: one step of the
class, with a group's hyperparameters, on a two-element dummy parameter. So the slots the reader
requires are this torch's (Adam's max_exp_avg_sq only with amsgrad, RMSprop's grad_avg only when
centered, step a Python int or a tensor as this version keeps it), never a table that can drift."""
import functools
import inspect

import torch

from .hyperparameters import IMPLEMENTATION_FLAGS, KNOWN_CLASSES


class Slots:
    """tensor: names of the slots shaped like the parameter; scalars: name -> an example value
    (an int, or a tensor whose dtype and shape a loaded value takes); eager: state exists from
    construction (Adagrad), so a parameter without state in a file cannot be loaded."""

    def __init__(self, tensor, scalars, eager):
        self.tensor, self.scalars, self.eager = tensor, scalars, eager


def torch_class(optimizer):
    """The torch.optim class of `optimizer` (its own, or the one it derives from) that the file
    format covers, or None."""
    for cls in type(optimizer).__mro__:
        if cls.__module__.startswith("torch.optim") and cls.__name__ in KNOWN_CLASSES and getattr(torch.optim, cls.__name__, None) is cls:
            return cls
    return None


def slots_for(cls, group):
    """The Slots of `cls` with the hyperparameters of `group` (a dict; tuples for pairs)."""
    accepted = inspect.signature(cls).parameters
    hyper = tuple(sorted((k, v) for k, v in group.items() if k in accepted and k != "params" and k not in IMPLEMENTATION_FLAGS))
    return _probe(cls, hyper)


@functools.lru_cache(maxsize=256)
def _probe(cls, hyper):
    param = torch.zeros(2, requires_grad=True)
    optimizer = cls([param], **dict(hyper))
    eager = len(optimizer.state[param]) > 0
    param.grad = torch.zeros(2)
    optimizer.step()
    tensor, scalars = set(), {}
    for key, value in optimizer.state[param].items():
        if value is None:
            continue
        if key != "step" and torch.is_tensor(value) and value.shape == param.shape:
            tensor.add(key)
        else:
            scalars[key] = value
    return Slots(frozenset(tensor), scalars, eager)
