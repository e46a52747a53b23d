"""Property tests: valid files mutated (bytes, header fields, offsets, shapes, metadata JSON,
state names and scalars), each read must end in a CheckpointError naming the file with nothing
changed, or an exact load (what the file declares, and a torch step runs on it). Any other
exception fails the test. Seeded (derandomize) and bounded for CI."""
import json
import os
import struct
import tempfile
import unittest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis caches data in ./.hypothesis; keep the repository clean (no example database either).
_HOME = tempfile.TemporaryDirectory()
set_hypothesis_home_dir(_HOME.name)

from support import Model, np, same, snapshot, torch, train, two_groups, w

FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)), suppress_health_check=list(HealthCheck))

NASTY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.sampled_from([0, 1, 2, -1, 6, 24, 2**53, 2**53 + 1, 10**400, 0.5, -0.0, 1e300, 2.5, 0.9, 0.999, 1.0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.one_of(st.integers(-3, 40), st.floats(-2, 2), st.text(max_size=2)), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(-2, 2), max_size=2),
)


def encode_header(header):
    text = json.dumps(header, allow_nan=True).encode()
    return struct.pack("<Q", len(text)) + text


def check_declared(data, tensors, metadata):
    """An accepted file's content is what its header declares, read independently of the reader:
    names, metadata, shapes and the very bytes at each tensor's offsets, tiling the data."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    assert header.pop("__metadata__", {}) == metadata
    assert sorted(header) == sorted(tensors)
    at = 0
    for name, entry in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        begin, end = entry["data_offsets"]
        assert begin == at and tensors[name].shape == tuple(entry["shape"])
        assert tensors[name].tobytes() == data[8 + length + begin : 8 + length + end]
        at = end
    assert at == len(data) - 8 - length


def valid_file():
    tensors = {"a": np.arange(6, dtype="<f4").reshape(2, 3), "b": np.array([1.5, -2], "<f4"), "e": np.zeros((0, 3), "<f4"), "s": np.array(7, "<f4")}
    return w.encode_safetensors(tensors, {"format": "x", "note": "ü"})


BASE = valid_file()


def decode_or_refuse(data):
    try:
        tensors, metadata = w.decode_safetensors(data, "fuzzed.safetensors")
    except w.CheckpointError as error:
        assert str(error).startswith("fuzzed.safetensors: not a valid float32 safetensors file: "), error
        return
    check_declared(data, tensors, metadata)


class SafetensorsFuzz(unittest.TestCase):
    @FUZZ
    @given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 255)), min_size=1, max_size=4), st.integers(0, len(BASE)))
    def test_bytes(self, edits, keep):
        data = bytearray(BASE)
        for at, value in edits:
            data[at] = value
        decode_or_refuse(bytes(data[:keep]) if keep < 8 else bytes(data))

    @FUZZ
    @given(st.sampled_from(["a", "b", "e", "s", "__metadata__"]), st.sampled_from(["dtype", "shape", "data_offsets", "extra", None]), NASTY, st.booleans())
    def test_header_fields(self, name, field, value, delete):
        (length,) = struct.unpack("<Q", BASE[:8])
        header, body = json.loads(BASE[8 : 8 + length]), BASE[8 + length :]
        if field is None:
            header[name] = value
        elif isinstance(header[name], dict) and delete:
            header[name].pop(field, None)
        elif isinstance(header[name], dict):
            header[name][field] = value
        decode_or_refuse(encode_header(header) + body)

    @FUZZ
    @given(st.sampled_from(["a", "b", "e", "s"]), st.integers(-40, 80), st.integers(-40, 80), st.lists(st.integers(-1, 7), max_size=3), st.integers(-8, 8))
    def test_offsets_and_shapes(self, name, begin, end, shape, extra_bytes):
        (length,) = struct.unpack("<Q", BASE[:8])
        header, body = json.loads(BASE[8 : 8 + length]), BASE[8 + length :]
        header[name]["data_offsets"] = [begin, end]
        header[name]["shape"] = shape
        body = body[: len(body) + extra_bytes] if extra_bytes < 0 else body + b"\x7f" * extra_bytes
        decode_or_refuse(encode_header(header) + body)


CLASSES = ["Adam", "RMSprop", "NAdam", "SGD"]


def make_file(folder, name):
    model = Model()
    optimizer = two_groups(name, model)
    train(model, optimizer, 2)
    path = os.path.join(folder, f"{name}.safetensors")
    w.save_from(optimizer, path, model=model)
    tensors, metadata = w.read_safetensors(path)
    return {k: np.array(v) for k, v in tensors.items()}, metadata


STATE_NAMES = st.sampled_from(["state.0.exp_avg", "state.1.exp_avg", "state.2.exp_avg", "state.0.square_avg", "state.0.momentum_buffer", "state.1.x", "state.-1.exp_avg", "state.0", "weight", ""])
SHAPES = st.sampled_from([(2, 3), (3, 2), (6,), (1, 6), (2,), (3,), (), (1,), (0,)])
GROUP_KEYS = st.sampled_from(["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "momentum", "centered", "alpha", "momentum_decay", "nesterov", "dampening", "foreach", "params", "param_names", "initial_lr", "x"])


@st.composite
def mutations(draw):
    kind = draw(st.sampled_from(["group", "scalar", "tensor-name", "tensor-shape", "tensor-drop", "metadata"]))
    return (kind, draw(st.integers(0, 2)), draw(GROUP_KEYS if kind == "group" else st.sampled_from(["step", "mu_product", "x"])), draw(NASTY), draw(st.booleans()), draw(STATE_NAMES), draw(SHAPES), draw(st.sampled_from(["format", "version", "optimizer", "param_groups", "scalars"])))


def parsed(metadata, key, kind):
    """metadata[key] parsed, when an earlier mutation left it JSON of that kind; else None."""
    try:
        value = json.loads(metadata.get(key, "null"))
    except ValueError:
        return None
    return value if isinstance(value, kind) else None


def apply(tensors, metadata, mutation):
    kind, index, key, value, delete, state_name, shape, meta_key = mutation
    tensors, metadata = dict(tensors), dict(metadata)
    groups, scalars = parsed(metadata, "param_groups", list), parsed(metadata, "scalars", dict)
    if kind == "group" and groups is not None:
        if index < len(groups) and isinstance(groups[index], dict):
            if delete:
                groups[index].pop(key, None)
            else:
                groups[index][key] = value
        metadata["param_groups"] = json.dumps(groups, allow_nan=True)
    elif kind == "scalar" and scalars is not None:
        entry = scalars.setdefault(str(index), {})
        if not isinstance(entry, dict):
            pass
        elif delete:
            entry.pop(key, None)
        else:
            entry[key] = value
        metadata["scalars"] = json.dumps(scalars, allow_nan=True)
    elif kind == "tensor-name" and tensors:
        old = sorted(tensors)[index % len(tensors)]
        tensors[state_name or "x"] = tensors.pop(old)
    elif kind == "tensor-shape" and tensors:
        name = sorted(tensors)[index % len(tensors)]
        array = tensors[name]
        tensors[name] = array.reshape(shape) if array.size == int(np.prod(shape)) else np.full(shape, 0.25, "<f4")
    elif kind == "tensor-drop" and tensors:
        tensors.pop(sorted(tensors)[index % len(tensors)])
    elif kind == "metadata":
        if delete:
            metadata.pop(meta_key, None)
        else:
            metadata[meta_key] = value if isinstance(value, str) else json.dumps(value, allow_nan=True)
    return tensors, metadata


class CheckpointFuzz(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._folder = tempfile.TemporaryDirectory()
        cls.files = {name: make_file(cls._folder.name, name) for name in CLASSES}

    @classmethod
    def tearDownClass(cls):
        cls._folder.cleanup()

    def load_or_refuse(self, name, data):
        path = os.path.join(self._folder.name, "fuzzed.safetensors")
        with open(path, "wb") as f:
            f.write(data)
        model = Model(seed=3)
        target = two_groups(name, model)
        train(model, target, 1, seed=5)
        before = snapshot(target)
        try:
            w.load_into(target, path)
        except w.CheckpointError as error:
            self.assertTrue(str(error).startswith(path + ": "), error)
            self.assertTrue(same(before, snapshot(target)), "a refused load changed the optimizer")
            return False
        self.check_exact(target, *w.read_safetensors(path))
        for p in model.parameters():
            p.grad = torch.ones_like(p)
        target.step()  # what loaded is state torch can step
        return True

    def check_exact(self, target, tensors, metadata):
        groups, scalars = json.loads(metadata["param_groups"]), json.loads(metadata["scalars"])
        params = [p for g in target.param_groups for p in g["params"]]
        for own, saved in zip(target.param_groups, groups):
            for key, value in saved.items():
                if key in own and key not in ("params", "foreach", "capturable", "differentiable", "fused"):
                    self.assertEqual(own[key], tuple(value) if isinstance(value, list) else value, key)
        for i, p in enumerate(params):
            state = target.state.get(p, {})
            for slot, value in state.items():
                if torch.is_tensor(value) and value.shape == p.shape and slot != "step":
                    np.testing.assert_array_equal(value.numpy().reshape(-1), tensors[f"state.{i}.{slot}"].reshape(-1))
                elif torch.is_tensor(value):  # as torch holds it (a float32 tensor rounds mu_product)
                    self.assertEqual(value.item(), torch.tensor(float(scalars[str(i)][slot]), dtype=value.dtype).item(), slot)
                    self.assertTrue(slot != "step" or value.item() == scalars[str(i)][slot], "a step not held exactly")
                elif value is not None:
                    self.assertEqual(value, scalars[str(i)][slot], slot)
            if any(k.startswith(f"state.{i}.") for k in tensors):
                self.assertTrue(state, f"the file's state of tensor {i} was not loaded")

    def assertBothOutcomes(self, run):
        """run() (a property test) both loaded and refused files: a fuzzer that only ever refuses
        says nothing about exact loads, one that only loads nothing about refusals."""
        self.outcomes = []
        run()
        loaded = sum(self.outcomes)
        self.assertTrue(0 < loaded < len(self.outcomes), f"{loaded} of {len(self.outcomes)} loaded")

    def test_structure(self):
        self.assertBothOutcomes(self.mutated_structure)

    def test_bytes(self):
        self.assertBothOutcomes(self.mutated_bytes)

    @FUZZ
    @given(st.sampled_from(CLASSES), st.lists(mutations(), min_size=1, max_size=3))
    def mutated_structure(self, name, edits):
        tensors, metadata = self.files[name]
        for edit in edits:
            tensors, metadata = apply(tensors, metadata, edit)
        self.outcomes.append(self.load_or_refuse(name, w.encode_safetensors(tensors, metadata)))

    @FUZZ
    @given(st.sampled_from(CLASSES), st.lists(st.tuples(st.booleans(), st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=3))
    def mutated_bytes(self, name, edits):
        data = bytearray(w.encode_safetensors(*self.files[name]))
        (length,) = struct.unpack("<Q", data[:8])
        for in_header, where, value in edits:
            begin, size = (0, 8 + length) if in_header else (8 + length, len(data) - 8 - length)
            data[begin + int(where * size)] = value
        loaded = self.load_or_refuse(name, bytes(data))
        self.outcomes.append(loaded)
        if not any(in_header for in_header, _, _ in edits):
            self.assertTrue(loaded, "a file whose state values changed is still a valid file")

    def test_the_unmutated_files_load(self):
        for name in CLASSES:
            self.assertTrue(self.load_or_refuse(name, w.encode_safetensors(*self.files[name])), name)


class WeightsFuzz(unittest.TestCase):
    @FUZZ
    @given(st.lists(st.tuples(st.sampled_from(["rename", "reshape", "drop", "add"]), st.sampled_from(["weight", "bias", "Weight", "x", ""]), SHAPES), min_size=1, max_size=3))
    def test_names_and_shapes(self, edits):
        model = Model()
        tensors = {k: v.detach().numpy().copy() for k, v in Model(seed=4).named_parameters()}
        for action, name, shape in edits:
            if action == "rename" and tensors:
                tensors[name or "y"] = tensors.pop(sorted(tensors)[0])
            elif action == "reshape" and name in tensors:
                tensors[name] = np.full(shape, 0.5, "<f4")
            elif action == "drop":
                tensors.pop(name, None)
            elif action == "add":
                tensors[name or "z"] = np.ones(shape, "<f4")
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "weights.safetensors")
            w.write_safetensors(path, tensors, {"format": "webgpu-optim/weights", "version": "1"})
            before = {k: v.clone() for k, v in model.state_dict().items()}
            try:
                w.load_weights(model, path)
            except w.CheckpointError as error:
                self.assertTrue(str(error).startswith(path + ": "), error)
                self.assertTrue(same(before, model.state_dict()))
                return
            for k, v in model.state_dict().items():
                np.testing.assert_array_equal(v.numpy(), tensors[k])


if __name__ == "__main__":
    unittest.main()
