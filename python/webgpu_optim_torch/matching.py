"""Which parameter of the optimizer each of a checkpoint's parameters is: by order (the file's
groups are the optimizer's groups, in order), or by name (the file's `param_names` looked up in
`model.named_parameters()`, in any order, as long as each file group is one optimizer group)."""
from collections.abc import Mapping

from .errors import CheckpointError


def named_tensors(model, what):
    """name -> tensor from a torch.nn.Module (its named_parameters()), a mapping, or (name,
    tensor) pairs."""
    if hasattr(model, "named_parameters") and callable(model.named_parameters):
        return dict(model.named_parameters())
    expected = f"{what} must be a torch.nn.Module, a mapping name -> tensor or (name, tensor) pairs"
    try:
        pairs = dict(model) if isinstance(model, Mapping) else dict(model)
    except (TypeError, ValueError):
        raise TypeError(f"{expected}, got {type(model).__name__}") from None
    for name, tensor in pairs.items():
        if not isinstance(name, str) or not hasattr(tensor, "shape"):
            raise TypeError(f"{expected}, got the entry {name!r}: {type(tensor).__name__}")
    return pairs


def _names_in(names, limit=6):
    listed = ", ".join(repr(n) for n in names[:limit])
    return listed + (f", … ({len(names)} in all)" if len(names) > limit else "")


def groups_mismatch(source, cls_name, file_groups, optimizer, by_names):
    """The message for the likeliest mistake: an optimizer whose groups are not the file's."""
    described, example = [], []
    for k, group in enumerate(file_groups):
        names = group.get("param_names")
        count = len(group["params"])
        described.append(f"group {k}: {count} parameter{'s' * (count != 1)}" + (f" ({_names_in(names, 4)})" if names else ""))
        inside = ", ".join(f"p[{n!r}]" for n in names[:3]) + (", …" if len(names) > 3 else "") if names else f"<{count} tensor{'s' * (count != 1)}>"
        example.append(f"{{'params': [{inside}]}}")
    own = [len(g["params"]) for g in optimizer.param_groups]
    named = all(g.get("param_names") for g in file_groups)
    return (
        f"{source}: the file's {len(file_groups)} param group{'s' * (len(file_groups) != 1)} ({'; '.join(described)}) are not the optimizer's "
        f"{len(own)} (of {', '.join(map(str, own))} parameter{'s' * (own != [1])}). torch.optim.{cls_name}(model.parameters()) makes one group; "
        f"make the file's groups, in its order: torch.optim.{cls_name}([{', '.join(example)}])"
        + (" with p = dict(model.named_parameters())" if named else "")
        + " (the file's hyperparameters replace each group's own)"
        + (", or pass model=model to load_into to match the parameters by name" if named and not by_names else "")
        + "."
    )


def by_order(source, cls_name, file_groups, optimizer):
    """[(optimizer group index, parameter)] per file index, and the optimizer group of each file group."""
    own = optimizer.param_groups
    if len(own) != len(file_groups) or any(len(g["params"]) != len(f["params"]) for g, f in zip(own, file_groups)):
        raise CheckpointError(groups_mismatch(source, cls_name, file_groups, optimizer, by_names=False))
    params = [(g, p) for g, group in enumerate(own) for p in group["params"]]
    return params, list(range(len(own)))


def by_names(source, cls_name, file_groups, optimizer, named):
    """As by_order, the file's parameters found by their names in `named` (name -> tensor)."""
    if not all(g.get("param_names") is not None for g in file_groups):
        raise CheckpointError(f"{source}: the file stores no parameter names (param_names) in every group, so it cannot be matched by name; load it without model=/names= to match by order")
    group_of = {id(p): g for g, group in enumerate(optimizer.param_groups) for p in group["params"]}
    params, group_map = [], []
    for k, group in enumerate(file_groups):
        targets = set()
        for i, name in zip(group["params"], group["param_names"]):
            tensor = named.get(name)
            if tensor is None:
                raise CheckpointError(f"{source}: group {k}, tensor {i} ({name!r}) is not one of the model's parameters ({_names_in(sorted(named))})")
            if id(tensor) not in group_of:
                raise CheckpointError(f"{source}: group {k}, tensor {i} ({name!r}) is a parameter of the model that the optimizer does not hold")
            targets.add(group_of[id(tensor)])
            params.append((group_of[id(tensor)], tensor))
        group_map.append(targets.pop() if len(targets) == 1 else None)
    own = [len(g["params"]) for g in optimizer.param_groups]
    sizes = [len(g["params"]) for g in file_groups]
    if len({id(p) for _, p in params}) != len(params):
        raise CheckpointError(f"{source}: two of the file's parameter names are one tensor of the model")
    if None in group_map or sorted(group_map) != list(range(len(own))) or any(own[g] != n for g, n in zip(group_map, sizes)):
        raise CheckpointError(groups_mismatch(source, cls_name, file_groups, optimizer, by_names=True))
    return params, group_map
