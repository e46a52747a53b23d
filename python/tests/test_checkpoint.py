"""Optimizer checkpoints (docs/checkpoint-format.md, rules 6-9): each class of bad file refused
with a CheckpointError naming the file, the group, the tensor and the value, before anything is
loaded; every torch.optim class this format covers loaded exactly."""
import json
import re
import unittest

from support import read, CLASSES, FileTestCase, Model, np, same, snapshot, torch, train, two_groups, w
from webgpu_optim_torch.nadam import mu_product as nadam_mu_product  # noqa: E402 (support puts the package on the path)


class CheckpointTestCase(FileTestCase):
    def setUp(self):
        super().setUp()
        self.model = Model()
        optimizer = two_groups("Adam", self.model)
        train(self.model, optimizer, 2)
        self.source = self.path("adam.safetensors")
        w.save_from(optimizer, self.source, model=self.model)
        self.target_model = Model(seed=5)
        self.target = two_groups("Adam", self.target_model)
        train(self.target_model, self.target, 1, seed=9)  # state of its own, which a refusal must keep

    def parts(self):
        tensors, metadata = w.read_safetensors(self.source)
        return {k: np.array(v) for k, v in tensors.items()}, dict(metadata)

    def edited(self, tensors=None, metadata=None, groups=None, scalars=None):
        """A copy of the valid file with some parts replaced (groups/scalars: functions editing the parsed JSON)."""
        original_tensors, original_metadata = self.parts()
        metadata = {**original_metadata, **(metadata or {})}
        for key, edit in (("param_groups", groups), ("scalars", scalars)):
            if edit:
                metadata[key] = edit(json.loads(metadata[key]))
        path = self.path("edited.safetensors")
        w.write_safetensors(path, original_tensors if tensors is None else tensors, metadata)
        return path

    def refused(self, path, *patterns):
        return self.assertRefused(lambda: w.load_into(self.target, path), lambda: snapshot(self.target), "^" + re.escape(path) + ": ", *patterns)


def set_in(key, value, group=0):
    def edit(groups):
        groups[group][key] = value
        return json.dumps(groups)

    return edit


def set_step(value, tensor="0"):
    def edit(scalars):
        scalars[tensor]["step"] = value
        return json.dumps(scalars)

    return edit


class RefusesBadFiles(CheckpointTestCase):
    def test_negative_offsets_reading_header_bytes(self):
        data = read(self.source)
        length = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + length])
        header["state.0.exp_avg"]["data_offsets"] = [-24, 0]
        text = json.dumps(header).encode()
        path = self.write(len(text).to_bytes(8, "little") + text + bytes(data[8 + length :]))
        self.refused(path, r'tensor "state.0.exp_avg": data_offsets \[-24, 0\] is not \[begin, end\] of non-negative integers')

    def test_overlapping_offsets_exp_avg_sq_as_exp_avg(self):
        data = read(self.source)
        length = int.from_bytes(data[:8], "little")
        header, body = json.loads(data[8 : 8 + length]), data[8 + length :]
        begin, end = header["state.0.exp_avg_sq"]["data_offsets"]
        header["state.0.exp_avg_sq"]["data_offsets"] = header["state.0.exp_avg"]["data_offsets"]
        for name, entry in header.items():  # the bytes it had are removed: no hole, only the overlap
            if name != "__metadata__" and entry["data_offsets"][0] >= end:
                entry["data_offsets"] = [o - (end - begin) for o in entry["data_offsets"]]
        text = json.dumps(header).encode()
        path = self.write(len(text).to_bytes(8, "little") + text + body[:begin] + body[end:])
        self.refused(path, r'tensors "state.0.exp_av(g|g_sq)" and "state.0.exp_avg(_sq)?" overlap')

    def test_steps_that_are_not_counts(self):
        for value, pattern in [(-1, r"tensor 0: step -1 is not an integer in 0..2\^53"), (1e300, "step 1e\\+300 is not an integer"), (2.5, "step 2.5"), (2**53, "step 9007199254740992 is not an integer in 0..2\\^53 - 1")]:
            with self.subTest(step=value):
                self.refused(self.edited(scalars=set_step(value)), pattern)
        self.refused(self.edited(metadata={"scalars": '{"0": {"step": NaN}, "1": {"step": 2}}'}), "metadata scalars is the literal NaN is not JSON")
        self.refused(self.edited(metadata={"scalars": '{"0": {"step": Infinity}, "1": {"step": 2}}'}), "the literal Infinity is not JSON")
        self.refused(self.edited(scalars=set_step("2")), 'tensor 0: scalar step is "2", not a finite number')
        self.refused(self.edited(scalars=set_step(True)), "tensor 0: scalar step is true, not a finite number")

    def test_steps_and_scalars_torch_cannot_hold(self):
        # torch 1.13's Adam counts in a float32 tensor: 2^24 + 1 would load as 2^24.
        self.refused(self.edited(scalars=lambda s: json.dumps({"0": {"step": 2**24 + 1}, "1": {"step": 2**24 + 1}})), r"group 0, tensor 0 \('weight'\): scalar 'step' 16777217 is not held exactly by this torch's step \(float32\)")
        self.edited(scalars=lambda s: json.dumps({"0": {"step": 2**24}, "1": {"step": 2**24}}))
        w.load_into(self.target, self.path("edited.safetensors"))
        self.assertEqual(self.target.state[self.target_model.weight]["step"].item(), 2**24)

    def nadam_file(self, steps):
        """A two-group NAdam file after `steps` steps: (path, tensors, metadata)."""
        model = Model()
        nadam = two_groups("NAdam", model)
        train(model, nadam, steps)
        path = self.path(f"nadam{steps}.safetensors")
        w.save_from(nadam, path)
        return (path, *w.read_safetensors(path))

    def test_nadam_mu_product(self):
        path, tensors, metadata = self.nadam_file(1)
        for value in (1e300, -0.5, 1.5):
            w.write_safetensors(path, tensors, {**metadata, "scalars": json.dumps({"0": {"step": 1, "mu_product": value}, "1": {"step": 1, "mu_product": 0.5}})})
            target = two_groups("NAdam", Model())
            self.assertRefused(lambda: w.load_into(target, path), lambda: snapshot(target), f"tensor 0: mu_product {value!r} is not in \\[0, 1\\]".replace("e+300", "e\\+300"))

    def test_nadam_mu_product_follows_from_the_step(self):
        # torch's own product after 3 steps loads; the same file claiming another product is refused.
        path, tensors, metadata = self.nadam_file(3)
        scalars = json.loads(metadata["scalars"])
        self.assertEqual(scalars["0"]["mu_product"], nadam_mu_product(0.9, 0.004, 3))
        w.load_into(two_groups("NAdam", Model()), path)
        scalars["0"]["mu_product"] = scalars["0"]["mu_product"] * 0.5
        w.write_safetensors(path, tensors, {**metadata, "scalars": json.dumps(scalars)})
        target = two_groups("NAdam", Model())
        self.assertRefused(lambda: w.load_into(target, path), lambda: snapshot(target), "group 0, tensor 0: mu_product [0-9.e-]+ is not what step 3, betas and momentum_decay give")
        # The fold stops once the product is fixed: step 2^24 costs a few hundred iterations.
        self.assertEqual(nadam_mu_product(0.9, 0.004, 2**24), nadam_mu_product(0.9, 0.004, 5000))

    def test_a_missing_step(self):
        def drop(scalars):
            del scalars["1"]["step"]
            return json.dumps(scalars)

        self.refused(self.edited(scalars=drop), r"group 1, tensor 1 \('bias'\): scalar 'step' is missing \(required with state\)")
        self.refused(self.edited(metadata={"scalars": '{"0": {"step": 2}}'}), r"group 1, tensor 1 \('bias'\): scalar 'step' is missing")

    def test_different_steps(self):
        # torch keeps state['step'] per parameter: one whose grad was None on a step took fewer.
        w.load_into(self.target, self.edited(scalars=set_step(1, "1")))
        steps = [self.target.state[p]["step"].item() for g in self.target.param_groups for p in g["params"]]
        self.assertEqual(steps, [2.0, 1.0])

    def test_scalar_keys(self):
        for key in ["01", "2", "-1", "x", " 0"]:
            with self.subTest(key=key):
                self.refused(self.edited(metadata={"scalars": json.dumps({"0": {"step": 2}, "1": {"step": 2}, key: {"step": 2}})}), r"scalars has key .*, not a parameter index \(0..1\)")
        self.refused(self.edited(metadata={"scalars": "[]"}), r"metadata scalars \[\] is not an object")
        self.refused(self.edited(scalars=lambda s: json.dumps({**s, "0": {"step": 2, "lr": 1}})), r"group 0, tensor 0 \('weight'\): scalar 'lr' has no place")

    def test_groups_that_lie_about_their_sizes(self):
        for groups, pattern in [
            (lambda g: json.dumps([{**g[0], "params": [0, 1]}, g[1]]), r"group 1: params \[1\] are not the indices 2, 3"),
            (lambda g: json.dumps([{**g[0], "params": [1]}, {**g[1], "params": [0]}]), r"group 0: params \[1\] are not the indices 0, 1"),
            (lambda g: json.dumps([{**g[0], "params": ["0"]}, g[1]]), r'group 0: params \["0"\]'),
            (lambda g: json.dumps([{**g[0], "params": [0.0]}, g[1]]), r"group 0: params \[0.0\]"),
            (lambda g: json.dumps([{**g[0], "params": [True]}, g[1]]), r"group 0: params \[true\]"),
            (lambda g: json.dumps([{**g[0], "params": None}, g[1]]), r"group 0: params null"),
            (lambda g: json.dumps([{**g[0], "param_names": ["weight", "x"]}, g[1]]), r'group 0: param_names \["weight", "x"\] is not a list of 1 strings'),
            (lambda g: json.dumps([{**g[0], "param_names": ["bias"]}, g[1]]), r"group 1: param_names has 'bias' twice"),
            (lambda g: json.dumps([g[0]]), r'scalars has key "1", not a parameter index \(0..0\)'),
            (lambda g: json.dumps([g[0], {**g[1], "params": []}]), r'group 1: param_names \["bias"\] is not a list of 0 strings'),
            (lambda g: json.dumps({"0": g[0]}), "metadata param_groups .* is not a list of objects"),
            (lambda g: json.dumps([g[0], None]), "is not a list of objects"),
        ]:
            with self.subTest(pattern=pattern):
                self.refused(self.edited(groups=groups), pattern)

    def test_hyperparameters_as_torch_checks_them(self):
        for key, value, pattern in [
            ("lr", -1, "group 0: lr is -1, expected a finite number >= 0"),
            ("lr", 10**400, "group 0: lr is 1000.*, expected a finite number >= 0"),
            ("lr", "0.01", 'group 0: lr is "0.01", expected a finite number >= 0'),
            ("betas", [2, 0.5], r"group 0: betas is \[2, 0.5\], expected two numbers, each in \[0, 1\)"),
            ("betas", [0.9], r"group 0: betas is \[0.9\], expected two numbers"),
            ("betas", [0.9, 1], "group 0: betas"),
            ("eps", -1e-8, "group 0: eps is -1e-08"),
            ("weight_decay", -0.1, "group 0: weight_decay is -0.1"),
            ("amsgrad", "yes", 'group 0: amsgrad is "yes", expected true or false'),
            ("amsgrad", 1, "group 0: amsgrad is 1, expected true or false"),
            ("foreach", "x", 'group 0: foreach is "x", expected true, false or null'),
            ("momentum", 0.9, r"group 0: momentum is 0.9, expected a hyperparameter of torch.optim.Adam \(it has amsgrad, betas, eps, lr, maximize, weight_decay\)"),
        ]:
            with self.subTest(key=key, value=value):
                self.refused(self.edited(groups=set_in(key, value)), pattern)
        for literal, pattern in [("NaN", "the literal NaN is not JSON"), ("-Infinity", "the literal -Infinity is not JSON"), ("1e400", "the number 1e400 overflows to inf")]:
            groups = self.parts()[1]["param_groups"].replace('"lr": 0.001', f'"lr": {literal}', 1)
            self.refused(self.edited(metadata={"param_groups": groups}), "metadata param_groups is " + pattern)

    def test_state_shapes(self):
        tensors, _ = self.parts()
        tensors["state.0.exp_avg"] = tensors["state.0.exp_avg"].reshape(3, 2)
        self.refused(self.edited(tensors=tensors), r"group 0, tensor 0 \('weight'\): state.0.exp_avg has shape \[3, 2\], the parameter is \[2, 3\] \(or flat \[6\]\)")
        tensors["state.0.exp_avg"] = np.zeros(5, dtype="<f4")
        self.refused(self.edited(tensors=tensors), r"state.0.exp_avg has shape \[5\], the parameter is \[2, 3\]")

    def test_state_tensors_with_no_place_or_missing(self):
        for edit, pattern in [
            (lambda t: t.update({"state.0.momentum_buffer": t["state.0.exp_avg"]}), r"group 0, tensor 0 \('weight'\): state.0.momentum_buffer has no place in this optimizer \(its state is exp_avg, exp_avg_sq, max_exp_avg_sq with these hyperparameters\)"),
            (lambda t: t.update({"state.0.exp_inf": t["state.0.exp_avg"]}), "state.0.exp_inf has no place"),
            (lambda t: t.update({"state.2.exp_avg": t["state.0.exp_avg"]}), r"tensor 'state.2.exp_avg' has no place in the optimizer \(names are state.<i>.<slot>, i in 0..1\)"),
            (lambda t: t.update({"state.01.exp_avg": t["state.0.exp_avg"]}), "tensor 'state.01.exp_avg' has no place"),
            (lambda t: t.update({"weights": t["state.0.exp_avg"]}), "tensor 'weights' has no place"),
            (lambda t: t.pop("state.1.exp_avg_sq"), r"group 1, tensor 1 \('bias'\): state.1.exp_avg_sq is missing \(this optimizer keeps exp_avg, exp_avg_sq, max_exp_avg_sq\)"),
        ]:
            with self.subTest(pattern=pattern):
                tensors, _ = self.parts()
                edit(tensors)
                self.refused(self.edited(tensors=tensors), pattern)
        tensors, _ = self.parts()
        del tensors["state.1.exp_avg"], tensors["state.1.exp_avg_sq"], tensors["state.1.max_exp_avg_sq"]
        self.refused(self.edited(tensors=tensors), r"group 1, tensor 1 \('bias'\): scalars \{\"step\": 2\} but no state tensors \(exp_avg, exp_avg_sq, max_exp_avg_sq\)")

    def test_header_fields(self):
        for metadata, pattern in [
            ({"format": "webgpu-optim/weights"}, r'metadata format "webgpu-optim/weights" is not "webgpu-optim/torch-optimizer" \(model weights: load them with load_weights\)'),
            ({"version": "2"}, 'metadata version "2" is not "1"'),
            ({"version": "1.0"}, 'metadata version "1.0" is not "1"'),
            ({"optimizer": "SGD"}, "the file holds torch.optim.SGD state, the optimizer is torch.optim.Adam"),
            ({"optimizer": "Lion"}, 'metadata optimizer "Lion" is not a torch.optim class this format covers'),
            ({"param_groups": "{"}, "metadata param_groups is not JSON"),
        ]:
            with self.subTest(metadata=metadata):
                self.refused(self.edited(metadata=metadata), pattern)
        tensors, metadata = self.parts()
        del metadata["scalars"]
        path = self.path("no-scalars.safetensors")
        w.write_safetensors(path, tensors, metadata)
        self.refused(path, "metadata has no 'scalars'")
        weights = self.path("weights.safetensors")
        w.save_weights({"weight": torch.zeros(2, 3), "bias": torch.zeros(2)}, weights)
        self.assertRefused(lambda: w.load_into(self.target, weights), lambda: snapshot(self.target), "load them with load_weights")
        w.write_safetensors(weights, {"weight": np.zeros((2, 3), "<f4")}, {})
        self.assertRefused(lambda: w.load_into(self.target, weights), lambda: snapshot(self.target), "no metadata format: not an optimizer checkpoint")

    def test_hyperparameters_a_newer_torch_has(self):
        nadam_model = Model()
        nadam = two_groups("NAdam", nadam_model)
        train(nadam_model, nadam, 1)
        path = self.path("nadam.safetensors")
        w.save_from(nadam, path, model=nadam_model)
        tensors, metadata = w.read_safetensors(path)
        groups = json.loads(metadata["param_groups"])
        for key, value, ok in [("decoupled_weight_decay", False, True), ("decoupled_weight_decay", True, False), ("maximize", False, True), ("maximize", True, False)]:
            with self.subTest(key=key, value=value):
                edited = [dict(groups[0], **{key: value}), groups[1]]
                w.write_safetensors(path, tensors, {**metadata, "param_groups": json.dumps(edited)})
                target = two_groups("NAdam", Model())
                if ok:
                    w.load_into(target, path)
                    self.assertNotIn(key, target.param_groups[0])
                else:
                    self.assertRefused(lambda: w.load_into(target, path), lambda: snapshot(target), f"group 0: {key} is true, expected false: this torch's torch.optim.NAdam has no '{key}'")


class LoadsExactly(FileTestCase):
    def test_every_class_round_trips_and_trains_on_identically(self):
        for name in CLASSES:
            with self.subTest(optimizer=name):
                model = Model()
                optimizer = two_groups(name, model)
                train(model, optimizer, 3)
                path = self.path(f"{name}.safetensors")
                w.save_from(optimizer, path, model=model)
                copy_model = Model(seed=1)
                copy_model.load_state_dict(model.state_dict())
                loaded = two_groups(name, copy_model, lr_scale=0.25)  # the file's lrs replace these
                w.load_into(loaded, path)
                self.assertTrue(same(loaded.state_dict(), optimizer.state_dict()), name)
                train(model, optimizer, 2, seed=7)
                train(copy_model, loaded, 2, seed=7)
                for a, b in zip(model.parameters(), copy_model.parameters()):
                    self.assertTrue(torch.equal(a, b), name)

    def test_flat_state_and_a_subclass(self):
        class MyAdam(torch.optim.Adam):
            pass

        model = Model()
        optimizer = two_groups("Adam", model)
        train(model, optimizer, 2)
        path = self.path()
        w.save_from(optimizer, path)
        tensors, metadata = w.read_safetensors(path)
        w.write_safetensors(path, {k: np.array(v).reshape(-1) for k, v in tensors.items()}, metadata)
        target = MyAdam([{"params": [model.weight]}, {"params": [model.bias]}])
        w.load_into(target, path)
        self.assertTrue(same(target.state_dict(), optimizer.state_dict()))
        self.assertEqual(target.state[model.weight]["exp_avg"].shape, (2, 3))

    def test_sgd_carries_the_files_step(self):
        # torch.optim.SGD keeps no count; the file's comes back unchanged, for the library's optimizer.
        model = Model()
        optimizer = two_groups("SGD", model)
        train(model, optimizer, 1)
        path = self.path()
        w.save_from(optimizer, path)
        tensors, metadata = w.read_safetensors(path)
        w.write_safetensors(path, tensors, {**metadata, "scalars": json.dumps({"0": {"step": 2**53 - 1}, "1": {"step": 2**53 - 1}})})
        target = two_groups("SGD", Model())
        w.load_into(target, path)
        w.save_from(target, self.path("back.safetensors"))
        self.assertEqual(json.loads(w.read_safetensors(self.path("back.safetensors"))[1]["scalars"]), {"0": {"step": 2**53 - 1}, "1": {"step": 2**53 - 1}})

    def test_a_file_at_step_zero_without_state(self):
        model = Model()
        optimizer = two_groups("Adam", model)
        path = self.path()
        w.save_from(optimizer, path)
        target = two_groups("Adam", Model())
        w.load_into(target, path)
        self.assertEqual(len(target.state), 0)
        _, metadata = w.read_safetensors(path)
        self.assertEqual(json.loads(metadata["scalars"]), {"0": {}, "1": {}})


if __name__ == "__main__":
    unittest.main()
