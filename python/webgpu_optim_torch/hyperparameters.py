"""A checkpoint's param group hyperparameters, checked as torch.optim's constructors check them
(docs/checkpoint-format.md, rule 7), plus what they leave out: every number finite, every flag a
bool, every pair two numbers. A bad value is refused naming the group and the key."""
import math

from .errors import shown

# Keys the file may carry that say how a step runs on this machine, not what it computes: checked,
# then the optimizer keeps its own (a file from a GPU with capturable=True still loads on a CPU).
IMPLEMENTATION_FLAGS = {"foreach": (bool, type(None)), "fused": (bool, type(None)), "capturable": (bool,), "differentiable": (bool,)}

# Keys a newer torch.optim has and this one may lack: accepted when they ask for what this torch
# does anyway (the value here), refused otherwise.
NEUTRAL_WHEN_ABSENT = {"maximize": False, "decoupled_weight_decay": False}


def _number(value):
    if type(value) not in (int, float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def non_negative(value):
    number = _number(value)
    return None if number is not None and number >= 0 else "a finite number >= 0"


def finite(value):
    return None if _number(value) is not None else "a finite number"


def unit_closed(value):
    number = _number(value)
    return None if number is not None and 0 <= number <= 1 else "a number in [0, 1]"


def boolean(value):
    return None if type(value) is bool else "true or false"


def _pair(value):
    if isinstance(value, list) and len(value) == 2:
        numbers = [_number(v) for v in value]
        if None not in numbers:
            return numbers
    return None


def betas(value):
    pair = _pair(value)
    return None if pair and all(0 <= b < 1 for b in pair) else "two numbers, each in [0, 1)"


def etas(value):
    pair = _pair(value)
    return None if pair and 0 < pair[0] < 1 < pair[1] else "two numbers [etaminus, etaplus] with 0 < etaminus < 1 < etaplus"


def step_sizes(value):
    pair = _pair(value)
    return None if pair and 0 <= pair[0] <= pair[1] else "two numbers [min, max] with 0 <= min <= max"


_ADAM = {"lr": non_negative, "betas": betas, "eps": non_negative, "weight_decay": non_negative, "maximize": boolean}
RULES = {
    "SGD": {"lr": non_negative, "momentum": non_negative, "dampening": finite, "weight_decay": non_negative, "nesterov": boolean, "maximize": boolean},
    "Adagrad": {"lr": non_negative, "lr_decay": non_negative, "weight_decay": non_negative, "initial_accumulator_value": non_negative, "eps": non_negative, "maximize": boolean},
    "RMSprop": {"lr": non_negative, "alpha": non_negative, "eps": non_negative, "weight_decay": non_negative, "momentum": non_negative, "centered": boolean, "maximize": boolean},
    "Adadelta": {"lr": non_negative, "rho": unit_closed, "eps": non_negative, "weight_decay": non_negative, "maximize": boolean},
    "Adam": {**_ADAM, "amsgrad": boolean},
    "AdamW": {**_ADAM, "amsgrad": boolean},
    "Adamax": _ADAM,
    "NAdam": {**_ADAM, "momentum_decay": non_negative, "decoupled_weight_decay": boolean},
    "RAdam": {**_ADAM, "decoupled_weight_decay": boolean},
    "Rprop": {"lr": non_negative, "etas": etas, "step_sizes": step_sizes, "maximize": boolean},
}
KNOWN_CLASSES = tuple(RULES)
PAIRS = {"betas", "etas", "step_sizes"}
EXTRA_RULES = {"initial_lr": non_negative}  # set by torch.optim.lr_scheduler; kept for it


def group_updates(cls_name, saved, own, fail):
    """The values the file's group `saved` gives the optimizer's group `own` (a dict of
    hyperparameters to set). `fail(key, value, expected)` raises."""
    rules = RULES[cls_name]
    updates = {}
    for key, value in saved.items():
        if key in ("params", "param_names"):
            continue
        if key in IMPLEMENTATION_FLAGS:
            if not isinstance(value, IMPLEMENTATION_FLAGS[key]):
                fail(key, value, "true, false" + (" or null" if type(None) in IMPLEMENTATION_FLAGS[key] else ""))
            continue
        rule = rules.get(key) or EXTRA_RULES.get(key)
        if rule is None:
            fail(key, value, f"a hyperparameter of torch.optim.{cls_name} (it has {', '.join(sorted(rules))})")
        expected = rule(value)
        if expected:
            fail(key, value, expected)
        if key in own or key in EXTRA_RULES:
            updates[key] = tuple(value) if key in PAIRS else value
        elif value != NEUTRAL_WHEN_ABSENT.get(key, object()):
            fail(key, value, f"{shown(NEUTRAL_WHEN_ABSENT.get(key))}: this torch's torch.optim.{cls_name} has no {key!r} (a newer torch has)")
    merged = {**own, **updates}
    if cls_name == "SGD" and merged.get("nesterov") and not (merged.get("momentum", 0) > 0 and merged.get("dampening", 0) == 0):
        fail("nesterov", True, "false unless momentum > 0 and dampening = 0 (torch.optim.SGD's rule)")
    return updates
