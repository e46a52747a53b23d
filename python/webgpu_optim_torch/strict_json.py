"""JSON as the file format specifies it: no NaN/Infinity literals, no numbers that overflow to
infinity, no duplicate keys. Python's json.loads accepts all three by default."""
import json
import math


class _Refused(ValueError):
    pass


def _no_constant(literal):
    raise _Refused(f"the literal {literal} is not JSON")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text} overflows to {value}")
    return value


def _unique_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _Refused(f"the key {json.dumps(key)} appears twice")
        seen[key] = value
    return seen


def loads(text):
    """The value `text` holds (str or UTF-8 bytes). Raises ValueError with the reason; never
    another exception type (deep nesting, bad UTF-8 and huge integers included)."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"not UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys)
    except _Refused as error:
        raise ValueError(str(error)) from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, and integers past Python's digit limit
        raise ValueError(f"not JSON ({error})") from None
