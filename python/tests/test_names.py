"""Loading by parameter name (the file's param_names -> model.named_parameters()), and the
message for the likeliest mistake: an optimizer made with one group for a file with two."""
import json
import re
import unittest

from support import FileTestCase, Model, same, snapshot, torch, train, two_groups, w


class ByName(FileTestCase):
    def setUp(self):
        super().setUp()
        self.model = Model()
        self.optimizer = two_groups("Adam", self.model)
        train(self.model, self.optimizer, 2)
        self.file = self.path("adam.safetensors")
        w.save_from(self.optimizer, self.file, model=self.model)

    def refused(self, target, load, *patterns):
        return self.assertRefused(load, lambda: snapshot(target), "^" + re.escape(self.file) + ": ", *patterns)

    def test_the_file_stores_the_names(self):
        _, metadata = w.read_safetensors(self.file)
        groups = json.loads(metadata["param_groups"])
        self.assertEqual([g["param_names"] for g in groups], [["weight"], ["bias"]])
        self.assertEqual([g["params"] for g in groups], [[0], [1]])

    def test_groups_in_another_order_load_by_name(self):
        model = Model(seed=3)
        target = torch.optim.Adam([{"params": [model.bias], "lr": 1.0}, {"params": [model.weight]}], amsgrad=True)
        # By order the weight's state would meet the bias: refused, naming the tensor.
        self.refused(target, lambda: w.load_into(target, self.file), r"group 0, tensor 0 \('weight'\): state.0.exp_avg has shape \[2, 3\], the parameter is \[2\]")
        w.load_into(target, self.file, model=model)
        self.assertTrue(same(target.state[model.weight], self.optimizer.state[self.model.weight]))
        self.assertTrue(same(target.state[model.bias], self.optimizer.state[self.model.bias]))
        self.assertEqual(target.param_groups[0]["lr"], self.optimizer.param_groups[1]["lr"])
        self.assertEqual(target.param_groups[1]["lr"], self.optimizer.param_groups[0]["lr"])
        self.assertEqual(target.param_groups[0]["params"], [model.bias])

    def test_names_as_a_mapping_or_pairs(self):
        for names in (dict(Model().named_parameters()), list(Model().named_parameters())):
            model_params = dict(names)
            target = torch.optim.Adam([{"params": [model_params["weight"]]}, {"params": [model_params["bias"]]}], amsgrad=True)
            w.load_into(target, self.file, names=names)
            self.assertTrue(same(target.state_dict(), self.optimizer.state_dict()))

    def test_one_group_for_a_file_of_two(self):
        model = Model()
        target = torch.optim.Adam(model.parameters())
        expected = re.escape("torch.optim.Adam([{'params': [p['weight']]}, {'params': [p['bias']]}]) with p = dict(model.named_parameters())")
        message = self.refused(
            target, lambda: w.load_into(target, self.file),
            re.escape("the file's 2 param groups (group 0: 1 parameter ('weight'); group 1: 1 parameter ('bias')) are not the optimizer's 1 (of 2 parameters)"),
            re.escape("torch.optim.Adam(model.parameters()) makes one group; make the file's groups, in its order: ") + expected,
            "or pass model=model to load_into to match the parameters by name",
        )
        self.assertNotIn("is invalid for input", message)
        self.refused(target, lambda: w.load_into(target, self.file, model=model), "the file's 2 param groups", expected)

    def test_groups_of_other_sizes(self):
        model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
        p = dict(model.named_parameters())
        source = torch.optim.SGD([{"params": [p["0.weight"], p["1.weight"]]}, {"params": [p["0.bias"], p["1.bias"]], "lr": 0.01}], lr=0.1, momentum=0.9)
        train_step = lambda: (source.zero_grad(), model(torch.ones(3, 2)).sum().backward(), source.step())  # noqa: E731
        train_step()
        w.save_from(source, self.file, model=model)
        target = torch.optim.SGD([{"params": [p["0.weight"]]}, {"params": [p["0.bias"], p["1.weight"], p["1.bias"]]}], lr=0.1, momentum=0.9)
        expected = re.escape("the file's 2 param groups (group 0: 2 parameters ('0.weight', '1.weight'); group 1: 2 parameters ('0.bias', '1.bias')) are not the optimizer's 2 (of 1, 3 parameters)")
        self.refused(target, lambda: w.load_into(target, self.file), expected)
        self.refused(target, lambda: w.load_into(target, self.file, model=model), expected)

    def test_names_that_do_not_match(self):
        class Other(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = torch.nn.Parameter(torch.zeros(2, 3))
                self.b = torch.nn.Parameter(torch.zeros(2))

        other = Other()
        target = torch.optim.Adam([{"params": [other.weight]}, {"params": [other.b]}])
        self.refused(target, lambda: w.load_into(target, self.file, model=other), r"group 1, tensor 1 \('bias'\) is not one of the model's parameters \('b', 'weight'\)")
        model = Model()
        only_weight = torch.optim.Adam([model.weight])
        self.refused(only_weight, lambda: w.load_into(only_weight, self.file, model=model), r"group 1, tensor 1 \('bias'\) is a parameter of the model that the optimizer does not hold")
        aliased = {"weight": model.weight, "bias": model.weight}
        self.refused(only_weight, lambda: w.load_into(only_weight, self.file, names=aliased), "two of the file's parameter names are one tensor of the model")

    def test_a_file_without_names(self):
        path = self.path("unnamed.safetensors")
        w.save_from(self.optimizer, path)
        _, metadata = w.read_safetensors(path)
        self.assertNotIn("param_names", metadata["param_groups"])
        model = Model()
        target = two_groups("Adam", model)
        self.assertRefused(lambda: w.load_into(target, path, model=model), lambda: snapshot(target), "the file stores no parameter names")
        w.load_into(target, path)  # by order
        self.assertTrue(same(target.state_dict(), self.optimizer.state_dict()))

    def test_save_from_names(self):
        path = self.path("named.safetensors")
        w.save_from(self.optimizer, path, names=["w", "b"])
        self.assertEqual([g["param_names"] for g in json.loads(w.read_safetensors(path)[1]["param_groups"])], [["w"], ["b"]])
        for names in (["w"], ["w", "w"], ["w", 3]):
            with self.assertRaisesRegex(ValueError, "save_from: names must be 2 distinct strings"):
                w.save_from(self.optimizer, path, names=names)
        w.save_from(self.optimizer, path, names=dict(self.model.named_parameters()))
        self.assertEqual([g["param_names"] for g in json.loads(w.read_safetensors(path)[1]["param_groups"])], [["weight"], ["bias"]])
        with self.assertRaisesRegex(TypeError, "names must be a torch.nn.Module, a mapping name -> tensor or \\(name, tensor\\) pairs, got the entry 'w': str"):
            w.load_into(self.optimizer, path, names={"w": "b"})
        with self.assertRaisesRegex(ValueError, "not one of the model's named_parameters"):
            w.save_from(self.optimizer, path, model=torch.nn.Linear(1, 1))
        with self.assertRaisesRegex(TypeError, "pass model= or names=, not both"):
            w.load_into(self.optimizer, path, model=self.model, names={})


if __name__ == "__main__":
    unittest.main()
