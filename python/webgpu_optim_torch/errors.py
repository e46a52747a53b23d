"""The one error every refusal raises, and how values are quoted in its messages."""
import json


class CheckpointError(ValueError):
    """A file refused: the message names the file, the field (group, tensor, key) and the value.

    A ValueError, so ``except ValueError`` catches it. Raised before anything is changed: the
    optimizer or model a refused file was meant for is left exactly as it was.
    """


def shown(value, limit=80):
    """A value as the file gave it, quoted JSON-style and cut short: strings in quotes, so that
    "1" and 1 read differently."""
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    except RecursionError:
        text = "(a value nested too deep to show)"
    return text if len(text) <= limit else text[: limit - 1] + "…"
