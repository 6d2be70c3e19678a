"""Every snippet of nn_cases.py (layers, losses, optimisers, schedules, clipping, data) run with
``torch`` bound to nabla gives PyTorch's pinned result (nn_reference.json, written by
tools/pytorch_reference/python_nn_cases.py). Floats agree to float32 rounding of a few
operations (relative 1e-4); strings (state-dict keys, printed modules) exactly."""

import json
import math
import pathlib

import pytest

import nabla

from nn_cases import CASES, PRELUDE

REFERENCE = json.loads((pathlib.Path(__file__).parent / "nn_reference.json").read_text())["cases"]


def run(code):
    scope = {"torch": nabla}
    exec(PRELUDE + code, scope)
    return scope["out"]


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-4, abs_tol=2e-5)


def check(value, pinned, where):
    kind, expected = next(iter(pinned.items()))
    if kind == "tensor":
        assert isinstance(value, nabla.Tensor), f"{where}: expected a Tensor, got {value!r}"
        assert list(value.shape) == expected["shape"], f"{where}: shape {list(value.shape)}"
        got = value.detach().reshape(-1).tolist()
        want = expected["values"]
        assert all(close(g, w) for g, w in zip(got, want)), f"{where}: {got} != {want}"
    elif kind == "seq":
        assert isinstance(value, (tuple, list)), f"{where}: expected a sequence, got {value!r}"
        assert len(value) == len(expected), f"{where}: {len(value)} items, PyTorch {len(expected)}"
        for i, (v, e) in enumerate(zip(value, expected)):
            check(v, e, f"{where}[{i}]")
    elif kind == "str":
        assert value == expected, f"{where}:\n{value}\n!=\n{expected}"
    elif kind == "number":
        if isinstance(value, nabla.Tensor):
            value = value.item()
        assert close(value, expected), f"{where}: {value} != {expected}"
    else:
        assert value == expected, f"{where}: {value!r} != {expected!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_pytorch(name):
    check(run(CASES[name]), REFERENCE[name], name)
