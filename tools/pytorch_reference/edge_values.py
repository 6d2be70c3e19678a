#!/usr/bin/env python3
"""PyTorch float64 values at the edges: NaN, infinities, signed zeros, bounds, and the
matmul ranks. Pinned by crates/nabla-core/tests/pytorch_numbers.rs.

Usage (from the repository root):

    /work/venv/bin/python tools/pytorch_reference/edge_values.py \
        > crates/nabla-core/tests/reference/pytorch_numbers.rs

What it shows about PyTorch 2.x (asserted below before anything is printed):
- NaN propagates through relu, leaky_relu, clamp, maximum/minimum, max/min/amax; argmax and
  argmin return the index of the first NaN; a NaN clamp bound makes every element NaN.
- relu's gradient is 0 where x <= 0 and 1 elsewhere, NaN included.
- clamp(x, min, max) has gradient 1 strictly inside (min < x < max) and 0 at either bound;
  clamp(min=) alone passes where x > min (so +inf keeps its gradient), clamp(max=) where x < max.
- maximum/minimum give the whole gradient to both operands where either is NaN.
- var with correction 1 of one element, or of an empty run, is NaN.
- matmul of two 1-d tensors is their dot product, a 0-d tensor.
"""

import math
import sys
import warnings

import torch
import torch.nn.functional as F

from composites import det
from rust_consts import const, fmt

torch.set_default_dtype(torch.float64)
# var's "degrees of freedom is <= 0" warning: those cases are the point.
warnings.filterwarnings("ignore", category=UserWarning)
NAN = math.nan
INF = math.inf

# Edge inputs: NaN, a negative, both zeros, inside, at a bound, beyond, both infinities.
EDGES = [NAN, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, INF, -INF]
# Second operand of maximum/minimum: ties (with either zero), NaN on either side.
OTHER = [0.0, 0.0, 0.0, -0.0, 0.5, NAN, 3.0, 1.0, NAN]


def edges():
    return torch.tensor(EDGES)


def value_and_grads(fn, *inputs):
    """fn's output and the gradient of its sum with respect to each input."""
    ins = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = fn(*ins)
    grads = torch.autograd.grad(out.sum(), ins)
    return out.detach(), [g.detach() for g in grads]


def same(a, b):
    """Equal elementwise, NaN equal to NaN, signs of zeros compared."""
    a, b = torch.as_tensor(a, dtype=torch.float64).reshape(-1), torch.tensor(b).reshape(-1)
    return all(
        (math.isnan(x) and math.isnan(y)) or (x == y and math.copysign(1, x) == math.copysign(1, y))
        for x, y in zip(a.tolist(), b.tolist())
    )


def sanity_checks():
    nan = torch.tensor([NAN])
    assert torch.relu(nan).isnan().all()
    assert torch.maximum(nan, torch.zeros(1)).isnan().all()
    assert torch.argmax(torch.tensor([1.0, NAN, 3.0, NAN])).item() == 1
    assert torch.clamp(torch.tensor([0.0, 5.0]), min=NAN).isnan().all()
    _, (g,) = value_and_grads(lambda x: x.clamp(-1.0, 1.0), torch.tensor([-1.0, 1.0]))
    assert same(g, [0.0, 0.0]), "clamp's gradient at the bounds is 0"
    _, (g,) = value_and_grads(torch.relu, nan)
    assert same(g, [1.0]), "relu's gradient at NaN is 1"
    assert torch.tensor([3.0]).var().isnan()
    assert torch.matmul(torch.ones(3), torch.ones(3)).dim() == 0


def main():
    sanity_checks()
    items = []

    def add(name, doc, t, kind="f64"):
        items.append(const(name, doc, torch.as_tensor(t).reshape(-1).tolist(), kind))

    x = edges()
    unary = [
        ("RELU", "relu(x)", torch.relu),
        ("LEAKY_RELU", "leaky_relu(x, 0.1)", lambda t: F.leaky_relu(t, 0.1)),
        ("CLAMP", "clamp(x, -1, 1)", lambda t: t.clamp(-1.0, 1.0)),
        ("CLAMP_MIN", "clamp(x, min=-1)", lambda t: t.clamp(min=-1.0)),
        ("CLAMP_MAX", "clamp(x, max=1)", lambda t: t.clamp(max=1.0)),
        ("CLAMP_INFINITE", "clamp(x, -inf, inf)", lambda t: t.clamp(-INF, INF)),
        ("CLAMP_NAN_MIN", "clamp(x, nan, 1)", lambda t: t.clamp(NAN, 1.0)),
        ("CLAMP_NAN_MAX", "clamp(x, -1, nan)", lambda t: t.clamp(-1.0, NAN)),
        ("CLAMP_MIN_NAN", "clamp(x, min=nan)", lambda t: t.clamp(min=NAN)),
        ("ABS", "abs(x)", torch.abs),
        ("SIGN", "sign(x)", torch.sign),
        ("SIGMOID", "sigmoid(x)", torch.sigmoid),
        ("TANH", "tanh(x)", torch.tanh),
        ("EXP", "exp(x)", torch.exp),
        ("LOG", "log(x)", torch.log),
        ("SQRT", "sqrt(x)", torch.sqrt),
        ("GELU", "gelu(x)", F.gelu),
    ]
    for name, text, fn in unary:
        y, (g,) = value_and_grads(fn, x)
        add(f"{name}_Y", f"{text} at `EDGES`.", y)
        add(f"{name}_GRAD", f"d sum({text}) / dx at `EDGES`.", g)

    b = torch.tensor(OTHER)
    for name, fn in [("MAXIMUM", torch.maximum), ("MINIMUM", torch.minimum)]:
        y, (ga, gb) = value_and_grads(fn, x, b)
        low = name.lower()
        add(f"{name}_Y", f"{low}(EDGES, OTHER).", y)
        add(f"{name}_GRAD_A", f"d sum({low}(a, b)) / da at `EDGES`, `OTHER`.", ga)
        add(f"{name}_GRAD_B", f"d sum({low}(a, b)) / db at `EDGES`, `OTHER`.", gb)

    rows = torch.tensor([[1.0, NAN, 3.0, NAN], [5.0, 2.0, 9.0, 9.0], [-1.0, 0.0, -4.0, NAN]])
    for name, fn in [("MAX_ALL", lambda t: t.max()), ("MIN_ALL", lambda t: t.min())]:
        y, (g,) = value_and_grads(fn, rows)
        add(f"{name}_Y", f"{name.lower().replace('_all', '')}() of `ROWS`.", y)
        add(f"{name}_GRAD", f"its gradient, shape [3, 4].", g)
    for name, fn in [("AMAX", lambda t: t.amax(1)), ("AMIN", lambda t: t.amin(1))]:
        y, (g,) = value_and_grads(fn, rows)
        add(f"{name}_Y", f"{name.lower()}(ROWS, dim 1).", y)
        add(f"{name}_GRAD", f"d sum({name.lower()}(ROWS, 1)) / d ROWS, shape [3, 4].", g)
    add("ARGMAX", "argmax(ROWS, dim 1).", rows.argmax(1), "i64")
    add("ARGMIN", "argmin(ROWS, dim 1).", rows.argmin(1), "i64")
    add("ARGMAX_COLUMNS", "argmax(ROWS, dim 0).", rows.argmax(0), "i64")

    one = torch.tensor([3.0])
    y, (g,) = value_and_grads(lambda t: t.var(), one)
    add("VAR_ONE", "var([3]) with correction 1, and its gradient.", torch.cat([y.reshape(1), g]))
    add("VAR_EMPTY_DIM", "var(zeros([2, 0]), dim 1), correction 1.", torch.zeros(2, 0).var(1))
    add(
        "VAR_OVER_CORRECTED",
        "var([3, 4], correction 2), var([3, 4, 5], correction 5).",
        torch.stack([torch.tensor([3.0, 4.0]).var(correction=2), torch.tensor([3.0, 4.0, 5.0]).var(correction=5)]),
    )

    y, (g,) = value_and_grads(lambda t: t.std(), one)
    add("STD_ONE", "std([3]) with correction 1, and its gradient.", torch.cat([y.reshape(1), g]))
    y, (g,) = value_and_grads(lambda t: t.std(), torch.tensor([2.0, 2.0, 2.0]))
    add("STD_FLAT", "std([2, 2, 2]), and its gradient (zero, not NaN).", torch.cat([y.reshape(1), g]))
    spread = det([3, 4], 3)
    spread[1] = 0.5  # a row with zero deviation
    y, (g,) = value_and_grads(lambda t: t.std(1, correction=0) * det([3], 4), spread)
    add("STD_ROWS", "std(det([3, 4], 3) with row 1 set to 0.5, dim 1, correction 0) * det([3], 4).", y)
    add("STD_ROWS_GRAD", "d sum(STD_ROWS) / dx, shape [3, 4].", g)

    # matmul over ranks: value of sum(matmul(a, b) * w) and its gradients.
    cases = [
        ("DOT", [4], [4]),
        ("VEC_MAT", [4], [4, 3]),
        ("MAT_VEC", [3, 4], [4]),
        ("BATCH_VEC", [2, 3, 4], [4]),
        ("VEC_BATCH", [4], [2, 4, 3]),
        ("BATCH_BROADCAST", [2, 1, 3, 4], [5, 4, 2]),
    ]
    for name, sa, sb in cases:
        a, bb = det(sa, 1), det(sb, 2)
        out = torch.matmul(a, bb)
        w = det(list(out.shape), 9)
        y, (ga, gb) = value_and_grads(lambda p, q: (torch.matmul(p, q) * w).sum(), a, bb)
        add(
            f"MATMUL_{name}",
            f"sum(matmul(det({sa}, 1), det({sb}, 2)) * det({list(out.shape)}, 9)); "
            f"matmul's shape is {list(out.shape)}.",
            y,
        )
        add(f"MATMUL_{name}_GRAD_A", f"its gradient with respect to a, shape {sa}.", ga)
        add(f"MATMUL_{name}_GRAD_B", f"its gradient with respect to b, shape {sb}.", gb)

    header = f"""\
//! `PyTorch` reference values at the edges: NaN, infinities, signed zeros, bounds, and the
//! ranks of `matmul`.
//!
//! Produced by `tools/pytorch_reference/edge_values.py` with torch {torch.__version__} in float64.
//! Do not edit by hand: regenerate with
//! `python tools/pytorch_reference/edge_values.py > crates/nabla-core/tests/reference/pytorch_numbers.rs`.

// Values such as exp(1) are PyTorch's results, not approximations of the constants.
#![allow(clippy::approx_constant)]

/// The edge inputs of the elementwise functions.
pub const EDGES: [f64; {len(EDGES)}] = [{", ".join(fmt(v) for v in EDGES)}];

/// The second operand of maximum and minimum.
pub const OTHER: [f64; {len(OTHER)}] = [{", ".join(fmt(v) for v in OTHER)}];

/// The reduced tensor, shape [3, 4], row-major.
pub const ROWS: [f64; 12] = [{", ".join(fmt(v) for v in rows.reshape(-1).tolist())}];
"""
    sys.stdout.write(header + "\n" + "\n\n".join(items) + "\n")


if __name__ == "__main__":
    main()
