"""The README's training example runs as written (one MNIST epoch) and writes a checkpoint
that loads back into the same model."""

import os
import pathlib
import re

import nabla

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_readme_training_example(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(import nabla\nfrom nabla import nn.*?)```", text, re.S).group(1)
    code = code.replace('"data/mnist"', repr(os.fspath(ROOT / "data" / "mnist")))
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(code, scope)
    state = nabla.load_file("net.safetensors")
    assert sorted(state) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    net = scope["Net"]()
    net.load_state_dict(state)
    with nabla.no_grad():
        accuracy = (net(scope["x_test"]).argmax(1) == scope["t_test"]).float().mean().item()
    assert accuracy > 0.9
