"""The safetensors layer (docs/checkpoint-format.md, rules 1-5): every malformed header refused
with a CheckpointError naming the file and the field, a valid file read back exactly."""
import io
import json
import struct
import unittest
from unittest import mock

from support import FileTestCase, np, raw_file, w

from webgpu_optim_torch import safetensors

A = np.arange(6, dtype="<f4").reshape(2, 3)
B = np.array([7, 8], dtype="<f4")
VALID = {"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [24, 32]}}
DATA = A.tobytes() + B.tobytes()


def with_entry(name, **fields):
    header = json.loads(json.dumps(VALID))
    header[name].update(fields)
    return header


class ReadsValidFiles(FileTestCase):
    def test_round_trip_is_exact(self):
        path = self.path()
        empty = np.zeros((0, 4), dtype="<f4")
        w.write_safetensors(path, {"a": A, "b": B, "e": empty, "s": np.float32(3.5)}, {"k": "v"})
        tensors, metadata = w.read_safetensors(path)
        self.assertEqual(metadata, {"k": "v"})
        self.assertEqual(sorted(tensors), ["a", "b", "e", "s"])
        np.testing.assert_array_equal(tensors["a"], A)
        self.assertEqual(tensors["a"].shape, (2, 3))
        self.assertEqual(tensors["e"].shape, (0, 4))
        self.assertEqual(tensors["s"].shape, ())
        self.assertEqual(tensors["b"].tobytes(), B.tobytes())

    def test_entries_in_any_order_and_names_like_proto(self):
        header = {"__proto__": VALID["b"], "constructor": VALID["a"]}
        tensors, metadata = w.decode_safetensors(raw_file(header, DATA))
        self.assertEqual(metadata, {})
        np.testing.assert_array_equal(tensors["constructor"], A)
        np.testing.assert_array_equal(tensors["__proto__"], B)

    def test_unpadded_header_and_trailing_whitespace(self):
        tensors, _ = w.decode_safetensors(raw_file(json.dumps(VALID) + " \n\t", DATA, pad=False))
        np.testing.assert_array_equal(tensors["b"], B)


class RefusesMalformedFiles(FileTestCase):
    def refused(self, data, *patterns):
        path = self.write(data)
        return self.assertRefused(lambda: w.read_safetensors(path), lambda: None, path, *patterns)

    def test_length_and_header_bounds(self):
        self.refused(b"\x01\x02", "2 bytes, shorter than the 8-byte header length")
        self.refused(struct.pack("<Q", 2**64 - 1) + b"{}", "header length 18446744073709551615 is over")
        self.refused(struct.pack("<Q", 64) + b"{}", "header length 64 runs past the end of the 10-byte file")
        self.refused(struct.pack("<Q", 2) + b"\xff\xfe", "the header is not UTF-8")

    def test_a_file_is_not_read_past_a_bad_header_length(self):
        path = self.write(struct.pack("<Q", 2**40) + bytes(1 << 20))
        read = []

        class Counting(io.FileIO):
            def read(self, size=-1):
                chunk = super().read(size)
                read.append(len(chunk))
                return chunk

        with mock.patch.object(safetensors, "open", lambda p, mode: Counting(p, mode), create=True):
            self.assertRefused(lambda: w.read_safetensors(path), lambda: None, "header length 1099511627776 is over the 104857600-byte limit")
        self.assertEqual(sum(read), 8)

    def test_header_json_is_strict(self):
        for text, pattern in [
            ('{"__metadata__": {"x": NaN}}', "the literal NaN is not JSON"),
            ('{"__metadata__": {"x": Infinity}}', "the literal Infinity is not JSON"),
            ('{"__metadata__": {"x": 1e999}}', "the number 1e999 overflows"),
            ('{"a": 1, "a": 2}', 'the key "a" appears twice'),
            ("[" * 100000 + "]" * 100000, "nested too deeply|not a JSON object"),
            ("{", "not JSON"),
            ("null", "the header is null, not a JSON object"),
            ("[]", r"the header is \[\], not a JSON object"),
            ("6", "the header is 6, not a JSON object"),
        ]:
            with self.subTest(text=text[:40]):
                self.refused(raw_file(text), pattern)

    def test_metadata_is_an_object_of_strings(self):
        for metadata in [None, [], "x", {"version": 1}, {"a": None}, {"a": {"b": "c"}}]:
            with self.subTest(metadata=metadata):
                self.refused(raw_file({"__metadata__": metadata}), "__metadata__ .* is not an object of strings")

    def test_entries(self):
        cases = [
            ({"a": None, "b": VALID["b"]}, 'tensor "a": entry null is not an object'),
            ({"a": [1], "b": VALID["b"]}, 'tensor "a": entry'),
            ({"": VALID["a"], "b": VALID["b"]}, "a tensor has an empty name"),
            (with_entry("a", extra=1), r'tensor "a": entry with keys \["data_offsets", "dtype", "extra", "shape"\]'),
            (with_entry("a", dtype="F16"), 'tensor "a": dtype "F16" is not "F32"'),
            (with_entry("a", dtype=None), 'tensor "a": dtype null'),
        ]
        for header, pattern in cases:
            with self.subTest(pattern=pattern):
                self.refused(raw_file(header, DATA), pattern)

    def test_shapes(self):
        for shape, pattern in [
            ([5], r"shape \[5\] holds 5 float32 values \(20 bytes\), data_offsets \[0, 24\] hold 24 bytes"),
            ([3, 2, 2], r"shape \[3, 2, 2\] holds 12"),
            ([10**15], "holds 1000000000000000 float32 values"),
            ([-6], r"shape \[-6\] is not a list of non-negative integers"),
            (["6"], r'shape \["6"\] is not'),
            ("6", 'shape "6" is not'),
            (None, "shape null is not"),
            ([6.0], r"shape \[6.0\] is not"),
            ([2.5, 2.4], "is not"),
            ([True, 6], r"shape \[true, 6\] is not"),
            ([2**53], "is not"),
        ]:
            with self.subTest(shape=shape):
                self.refused(raw_file(with_entry("a", shape=shape), DATA), 'tensor "a": (shape .*)?' + pattern)

    def test_offsets(self):
        for offsets, pattern in [
            ([-8, 16], r"data_offsets \[-8, 16\] is not \[begin, end\] of non-negative integers"),
            ([0.5, 24.5], r"data_offsets \[0.5, 24.5\] is not"),
            ([0, 24, 32], "is not"),
            ("0,24", "is not"),
            (None, "is not"),
            ([24, 0], r"data_offsets \[24, 0\] are not within the 32 data bytes"),
            ([0, 40], r"data_offsets \[0, 40\] are not within the 32 data bytes"),
        ]:
            with self.subTest(offsets=offsets):
                self.refused(raw_file(with_entry("a", data_offsets=offsets), DATA), 'tensor "a": (data_offsets .*)?' + pattern)

    def test_tensors_tile_the_data_exactly(self):
        # b over a's last 8 bytes: two tensors sharing bytes.
        self.refused(raw_file(with_entry("b", data_offsets=[16, 24]), DATA), 'tensors "a" and "b" overlap')
        first = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
        self.refused(raw_file({"a": first, "b": first}, B.tobytes()), 'tensors "a" and "b" overlap')
        self.refused(raw_file(VALID, DATA + b"\0" * 4), "bytes 32..36 of the data belong to no tensor")
        self.refused(raw_file({"b": {"dtype": "F32", "shape": [2], "data_offsets": [24, 32]}}, DATA), "bytes 0..24 of the data belong to no tensor")
        self.refused(raw_file({}, b"\0" * 4), "bytes 0..4 of the data belong to no tensor")

    def test_writer_refuses_what_it_cannot_write(self):
        with self.assertRaisesRegex(ValueError, "metadata must map strings to strings"):
            w.encode_safetensors({}, {"version": 1})
        with self.assertRaisesRegex(ValueError, "tensor name \"__metadata__\""):
            w.encode_safetensors({"__metadata__": A}, {})


if __name__ == "__main__":
    unittest.main()
