"""Safetensors files of float32 tensors, read as untrusted input (docs/checkpoint-format.md,
rules 1-5): every byte is checked before anything is allocated or returned.

A file: an 8-byte little-endian header length N, N bytes of UTF-8 JSON (`{name: {dtype, shape,
data_offsets}}` plus an optional `__metadata__` string map), then the data. The `safetensors`
package reads and writes the same files; this reader needs numpy only.
"""
import json
import os
import struct

import numpy as np

from . import strict_json
from .errors import CheckpointError, shown

MAX_HEADER_BYTES = 100 * 1024 * 1024
MAX_SAFE_INTEGER = 2**53 - 1
ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


def _is_safe_integer(value):
    return type(value) is int and 0 <= value <= MAX_SAFE_INTEGER


def _check_shape(fail, name, shape):
    if not isinstance(shape, list) or not all(_is_safe_integer(n) for n in shape):
        fail(f'tensor "{name}": shape {shown(shape)} is not a list of non-negative integers')
    count = 1
    for n in shape:
        count *= n
    return count


def _check_offsets(fail, name, offsets, data_size):
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_safe_integer(n) for n in offsets):
        fail(f'tensor "{name}": data_offsets {shown(offsets)} is not [begin, end] of non-negative integers')
    begin, end = offsets
    if not begin <= end <= data_size:
        fail(f'tensor "{name}": data_offsets {shown(offsets)} are not within the {data_size} data bytes (begin <= end <= {data_size})')
    return begin, end


def _check_entry(fail, name, entry, data_size):
    if name == "":
        fail("a tensor has an empty name")
    if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS:
        keys = sorted(entry) if isinstance(entry, dict) else None
        fail(f'tensor "{name}": entry {shown(entry) if keys is None else "with keys " + shown(keys)} is not an object of exactly dtype, shape, data_offsets')
    if entry["dtype"] != "F32":
        fail(f'tensor "{name}": dtype {shown(entry["dtype"])} is not "F32" (the only one this library reads)')
    count = _check_shape(fail, name, entry["shape"])
    begin, end = _check_offsets(fail, name, entry["data_offsets"], data_size)
    if count * 4 != end - begin:
        fail(f'tensor "{name}": shape {shown(entry["shape"])} holds {count} float32 values ({count * 4} bytes), data_offsets {shown(entry["data_offsets"])} hold {end - begin} bytes')
    return begin, end


def _check_tiling(fail, spans, data_size):
    """The tensors, by begin, cover the data area exactly: no overlap (two tensors sharing
    bytes), no hole, nothing after the last one."""
    at, previous = 0, None
    for begin, end, name in sorted(spans):
        if begin < at:
            fail(f'tensors "{previous}" and "{name}" overlap (byte {begin} is in both)')
        if begin > at:
            fail(f'bytes {at}..{begin} of the data belong to no tensor (before "{name}")')
        at, previous = end, name
    if at != data_size:
        fail(f"bytes {at}..{data_size} of the data belong to no tensor")


def _fail_for(source):
    def fail(why):
        raise CheckpointError(f"{source}: not a valid float32 safetensors file: {why}")

    return fail


def _header_length(fail, first, size):
    """The header length the first 8 bytes give, checked against the limit and the file's size."""
    if size < 8:
        fail(f"{size} bytes, shorter than the 8-byte header length")
    (length,) = struct.unpack("<Q", first)
    if length > MAX_HEADER_BYTES:
        fail(f"header length {length} is over the {MAX_HEADER_BYTES}-byte limit")
    if 8 + length > size:
        fail(f"header length {length} runs past the end of the {size}-byte file")
    return length


def decode_safetensors(data, source="<bytes>"):
    """(tensors, metadata) of a safetensors file's bytes: tensors a dict of read-only float32 numpy
    arrays in their shapes, metadata a dict of strings. A malformed file raises CheckpointError
    naming `source`, the field and the value."""
    fail = _fail_for(source)
    data = memoryview(data).cast("B")
    length = _header_length(fail, data[:8], len(data))
    try:
        header = strict_json.loads(data[8 : 8 + length])
    except ValueError as error:
        fail(f"the header is {error}")
    if not isinstance(header, dict):
        fail(f"the header is {shown(header)}, not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        fail(f"__metadata__ {shown(metadata)} is not an object of strings")
    base, data_size = 8 + length, len(data) - 8 - length
    spans = [(*_check_entry(fail, name, entry, data_size), name) for name, entry in header.items()]
    _check_tiling(fail, spans, data_size)
    tensors = {}
    for begin, end, name in spans:
        array = np.frombuffer(data[base + begin : base + end], dtype="<f4").reshape(header[name]["shape"])
        tensors[name] = array
    return tensors, dict(metadata)


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file on disk (see decode_safetensors). The header
    length is checked against the file's size before the rest is read."""
    source = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        first = f.read(8)
        _header_length(_fail_for(source), first, max(size, len(first)))
        data = first + f.read()
    return decode_safetensors(data, source)


def encode_safetensors(tensors, metadata):
    """The bytes of a file holding `tensors` (name -> array-like, written as float32 in its shape)
    and `metadata` (str -> str); tensors in name order, the header padded to 8 bytes."""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError(f"safetensors metadata must map strings to strings, got {shown(metadata)}")
    header, blobs, offset = {"__metadata__": dict(metadata)}, [], 0
    for name in sorted(tensors):
        if not isinstance(name, str) or name in ("", "__metadata__"):
            raise ValueError(f"safetensors tensor name {shown(name)} is not a non-empty string other than __metadata__")
        array = np.array(tensors[name], dtype="<f4", order="C")  # 0-d stays 0-d (ascontiguousarray makes it [1])
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
        blobs.append(array.tobytes())
    text = json.dumps(header, allow_nan=False).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_safetensors(path, tensors, metadata):
    """Writes encode_safetensors(tensors, metadata) to `path`."""
    data = encode_safetensors(tensors, metadata)
    with open(path, "wb") as f:
        f.write(data)
