"""python/README.md's example runs as printed."""
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class Readme(unittest.TestCase):
    def test_the_example_runs(self):
        with open(os.path.join(HERE, "..", "README.md"), encoding="utf-8") as f:
            blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
        self.assertEqual(len(blocks), 1)
        with tempfile.TemporaryDirectory() as folder:
            env = {**os.environ, "PYTHONPATH": os.path.join(HERE, "..")}
            run = subprocess.run([sys.executable, "-c", blocks[0]], cwd=folder, capture_output=True, text=True, env=env)
            self.assertEqual((run.returncode, run.stdout), (0, "resumed identically\n"), run.stderr)
            self.assertEqual(sorted(os.listdir(folder)), ["adamw.safetensors", "model.safetensors"])


if __name__ == "__main__":
    unittest.main()
