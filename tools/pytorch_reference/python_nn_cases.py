#!/usr/bin/env python3
"""Pin PyTorch's results for the Python package's nn, optim and data tests.

Usage:

    /work/venv/bin/python tools/pytorch_reference/python_nn_cases.py

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


if __name__ == "__main__":
    main()
