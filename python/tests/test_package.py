"""The folder installs with pip (as from the repository or the npm package's python/ folder) and
the installed copy works: a copy of the folder, built without network or build isolation."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)

CHECK = """
import sys, os, tempfile
sys.path.insert(0, sys.argv[1])
import torch, webgpu_optim_torch as w
assert w.__file__.startswith(sys.argv[1]), w.__file__
model = torch.nn.Linear(3, 2)
optimizer = torch.optim.Adam(model.parameters())
model(torch.ones(1, 3)).sum().backward()
optimizer.step()
folder = tempfile.mkdtemp()
w.save_weights(model, os.path.join(folder, "m.safetensors"))
w.save_from(optimizer, os.path.join(folder, "o.safetensors"), model=model)
w.load_weights(model, os.path.join(folder, "m.safetensors"))
w.load_into(optimizer, os.path.join(folder, "o.safetensors"), model=model)
print("installed ok")
"""


class Installs(unittest.TestCase):
    def test_pip_installs_the_folder(self):
        with tempfile.TemporaryDirectory() as folder:
            copy = os.path.join(folder, "python")
            shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
            target = os.path.join(folder, "site")
            pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "--target", target, copy]
            build = subprocess.run(pip, capture_output=True, text=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
            self.assertEqual(build.returncode, 0, build.stdout + build.stderr)
            self.assertTrue(os.path.isfile(os.path.join(target, "webgpu_optim_torch", "weights.py")))
            run = subprocess.run([sys.executable, "-c", CHECK, target], capture_output=True, text=True, cwd=folder)
            self.assertEqual((run.returncode, run.stdout.strip()), (0, "installed ok"), run.stderr)


if __name__ == "__main__":
    unittest.main()
