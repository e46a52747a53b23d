"""Model weights as standard safetensors files (docs/checkpoint-format.md, rule 10): keyed by
model.state_dict() names, F32, real shapes; loaded by name and shape or refused, naming the
tensor, with the model unchanged."""
import json
import re
import struct
import unittest

from support import read, FileTestCase, Model, np, raw_file, same, torch, train, two_groups, w


class Weights(FileTestCase):
    def test_a_standard_file(self):
        model = Model()
        path = self.path()
        w.save_weights(model, path)
        data = read(path)
        (length,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + length])
        self.assertEqual(header.pop("__metadata__"), {"format": "webgpu-optim/weights", "version": "1"})
        self.assertEqual(sorted(header), sorted(model.state_dict()))
        for name, tensor in model.state_dict().items():
            entry = header[name]
            self.assertEqual((entry["dtype"], entry["shape"]), ("F32", list(tensor.shape)))
            begin, end = entry["data_offsets"]
            stored = np.frombuffer(data[8 + length + begin : 8 + length + end], "<f4").reshape(tensor.shape)
            np.testing.assert_array_equal(stored, tensor.numpy())

    def test_training_continues_in_another_process_identically(self):
        model, other = Model(), Model(seed=8)
        optimizer = two_groups("AdamW", model)
        train(model, optimizer, 3)
        w.save_weights(model, self.path("model.safetensors"))
        w.save_from(optimizer, self.path("opt.safetensors"), model=model)
        w.load_weights(other, self.path("model.safetensors"))
        resumed = two_groups("AdamW", other, lr_scale=1)
        w.load_into(resumed, self.path("opt.safetensors"), model=other)
        train(model, optimizer, 2, seed=4)
        train(other, resumed, 2, seed=4)
        self.assertTrue(same(model.state_dict(), other.state_dict()))

    def test_any_standard_f32_file_with_the_names(self):
        model = Model(seed=2)
        tensors = {"weight": np.full((2, 3), 1.5, "<f4"), "bias": np.array([1, 2], "<f4")}
        for metadata in ({}, {"format": "pt"}):
            path = self.path()
            w.write_safetensors(path, tensors, metadata)
            w.load_weights(model, path)
            np.testing.assert_array_equal(model.weight.detach().numpy(), tensors["weight"])
        mapping = {"weight": torch.zeros(2, 3, dtype=torch.float64), "bias": torch.zeros(2)}
        w.load_weights(mapping, path)
        self.assertEqual(mapping["weight"].dtype, torch.float64)
        self.assertEqual(mapping["weight"][0, 0].item(), 1.5)

    def test_refusals_leave_the_model_unchanged(self):
        model = Model()
        good = {"weight": np.ones((2, 3), "<f4"), "bias": np.ones(2, "<f4")}
        for tensors, metadata, pattern in [
            ({"weight": good["weight"]}, {}, r"no tensor for the model's parameter 'bias'"),
            ({**good, "extra": good["bias"]}, {}, r"tensor 'extra' is not among the model's parameters \('bias', 'weight'\)"),
            ({**good, "weight": np.ones((3, 2), "<f4")}, {}, r"tensor 'weight' has shape \[3, 2\], the model's parameter is \[2, 3\]"),
            ({**good, "weight": np.ones(6, "<f4")}, {}, r"tensor 'weight' has shape \[6\]"),
            (good, {"format": "webgpu-optim/weights", "version": "2"}, 'metadata version "2" is not "1"'),
            (good, {"format": "webgpu-optim/torch-optimizer"}, "an optimizer checkpoint, not model weights"),
        ]:
            with self.subTest(pattern=pattern):
                path = self.path()
                w.write_safetensors(path, tensors, metadata)
                self.assertRefused(lambda: w.load_weights(model, path), lambda: {k: v.clone() for k, v in model.state_dict().items()}, "^" + re.escape(path) + ": " + pattern)
        path = self.write(raw_file({"weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "bias": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}}, b"\0" * 24))
        self.assertRefused(lambda: w.load_weights(model, path), lambda: {k: v.clone() for k, v in model.state_dict().items()}, 'tensors "weight" and "bias" overlap')

    def test_save_refuses_what_is_not_floating_point(self):
        with self.assertRaisesRegex(ValueError, "save_weights: parameter 'steps' is torch.int64, not a floating-point tensor"):
            w.save_weights({"steps": torch.zeros(2, dtype=torch.int64)}, self.path())


if __name__ == "__main__":
    unittest.main()
