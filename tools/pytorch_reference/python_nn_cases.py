#!/usr/bin/env python3
"""Pin PyTorch's results for the Python package's nn, optim and data tests.

Usage:

    /work/venv/bin/python tools/pytorch_reference/python_nn_cases.py

Also writes python/tests/torch_model.safetensors, a small model's state dict saved by
``safetensors.torch``, and pins that model's output for the interop test.

Runs every snippet of python/tests/nn_cases.py (after its PRELUDE) with ``torch`` and writes
the results to python/tests/nn_reference.json, which python/tests/test_nn_reference.py
compares nabla's results with (the tests never import torch). The encoding is
python_tensor_cases.py's.
"""

import json
import pathlib
import sys

import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python" / "tests"))
sys.path.insert(0, str(ROOT / "tools" / "pytorch_reference"))
from nn_cases import CASES, PRELUDE  # noqa: E402
from python_tensor_cases import encode  # noqa: E402


def main():
    torch.set_default_dtype(torch.float32)
    pinned = {}
    for name, code in CASES.items():
        scope = {"torch": torch}
        exec(PRELUDE + code, scope)
        pinned[name] = encode(scope["out"])
    out = ROOT / "python" / "tests" / "nn_reference.json"
    out.write_text(json.dumps({"torch": torch.__version__.split("+")[0], "cases": pinned},
                              indent=1) + "\n")
    print(f"{len(pinned)} cases pinned in {out.relative_to(ROOT)}")
    # A model's state dict saved by safetensors.torch, for the interop test.
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    model(torch.randn(4, 3))
    fixture = ROOT / "python" / "tests" / "torch_model.safetensors"
    save_file(model.state_dict(), str(fixture), metadata={"written_by": "safetensors.torch"})
    expected = model.eval()(torch.linspace(-1, 1, 6).reshape(2, 3))
    pinned["torch_model_output"] = encode(expected)
    out.write_text(json.dumps({"torch": torch.__version__.split("+")[0], "cases": pinned},
                              indent=1) + "\n")
    print(f"{fixture.relative_to(ROOT)} written")


if __name__ == "__main__":
    main()
