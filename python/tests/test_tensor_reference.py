"""Every snippet of tensor_cases.py run with ``import nabla as torch`` gives PyTorch's pinned
result (tensor_reference.json, written by tools/pytorch_reference/python_tensor_cases.py).

PyTorch's comparisons give bool tensors; nabla, without a bool dtype, gives int64 0/1: the
values must agree and the dtype may be int64 where PyTorch's is bool."""

import json
import math
import pathlib

import pytest

import nabla

from tensor_cases import CASES, TEXTBOOK

REFERENCE = json.loads((pathlib.Path(__file__).parent / "tensor_reference.json").read_text())["cases"]


def run(code):
    scope = {"torch": nabla}
    exec(code, scope)
    return scope["out"]


def close(a, b, rtol=1e-5, atol=1e-6):
    if isinstance(b, str):
        return isinstance(a, float) and repr(a) == b or (b == "nan" and math.isnan(a))
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def check(value, pinned, where):
    kind, expected = next(iter(pinned.items()))
    if kind == "tensor":
        assert isinstance(value, nabla.Tensor), f"{where}: expected a Tensor, got {value!r}"
        dtype = repr(value.dtype).replace("nabla.", "")
        wanted = "int64" if expected["dtype"] == "bool" else expected["dtype"]
        assert dtype == wanted, f"{where}: dtype {dtype}, PyTorch {expected['dtype']}"
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
        assert not isinstance(value, nabla.Tensor), f"{where}: expected a number"
        assert type(value) is type(expected) or isinstance(value, float), f"{where}: {value!r}"
        assert close(value, expected), f"{where}: {value} != {expected}"
    else:
        assert value == expected, f"{where}: {value!r} != {expected!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_pytorch(name):
    check(run(CASES[name]), REFERENCE[name], name)


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_textbook_graph(name):
    check(run(TEXTBOOK[name]), REFERENCE[name], name)


def test_textbook_values_are_the_books():
    assert [round(v, 4) for v in run(TEXTBOOK["apple"])[1:]] == [2.2, 110.0, 200.0]
    assert run(TEXTBOOK["affine_square"]) == (12.0, 8.0, 4.0)
    assert run(TEXTBOOK["accumulation"]) == (2.0, 5.0)
