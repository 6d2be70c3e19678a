#!/usr/bin/env python3
"""Pin PyTorch's results for the Python package's tensor and autograd tests.

Usage:

    /work/venv/bin/python tools/pytorch_reference/python_tensor_cases.py

Runs every snippet of python/tests/tensor_cases.py with ``torch`` and writes the results to
python/tests/tensor_reference.json, which python/tests/test_tensor_reference.py compares
nabla's results with (the tests never import torch). Tensors are written as dtype, shape and
flat values; ``torch.`` and ``torch::`` in text become ``nabla.`` and ``nabla::``.
"""

import json
import math
import pathlib
import sys

import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python" / "tests"))
from tensor_cases import CASES, TEXTBOOK  # noqa: E402


def encode(value):
    if isinstance(value, torch.Tensor):
        flat = value.detach().reshape(-1).tolist()
        return {
            "tensor": {
                "dtype": str(value.dtype).replace("torch.", ""),
                "shape": list(value.shape),
                "values": [v if not isinstance(v, float) or math.isfinite(v) else repr(v) for v in flat],
            }
        }
    if isinstance(value, (tuple, list)):
        return {"seq": [encode(v) for v in value]}
    if isinstance(value, str):
        return {"str": value.replace("torch.", "nabla.").replace("torch::", "nabla::")}
    if isinstance(value, bool) or value is None:
        return {"const": value}
    if isinstance(value, (int, float)):
        return {"number": value}
    raise TypeError(f"cannot pin {type(value).__name__}")


def main():
    torch.set_default_dtype(torch.float32)
    pinned = {}
    for name, code in {**CASES, **TEXTBOOK}.items():
        scope = {"torch": torch}
        exec(code, scope)
        pinned[name] = encode(scope["out"])
    out = ROOT / "python" / "tests" / "tensor_reference.json"
    out.write_text(json.dumps({"torch": torch.__version__.split("+")[0], "cases": pinned}, indent=1) + "\n")
    print(f"{len(pinned)} cases pinned in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
