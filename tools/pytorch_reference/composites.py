#!/usr/bin/env python3
"""Produce PyTorch float64 reference values for nabla's autodiff tests.

Usage (from the repository root):

    /work/venv/bin/python tools/pytorch_reference/composites.py \
        > crates/nabla-core/tests/reference/pytorch_values.rs

Prints a Rust source file of `pub const NAME: [f64; N]` items to stdout.
All inputs are deterministic (no RNG) so the Rust side can rebuild them:

    det(shape, k)[i] = sin(0.37 * i + k)   for row-major flat index i,

reshaped to `shape`. Every composite is also checked with
torch.autograd.gradcheck (finite differences) before anything is printed.
"""

import math
import sys

import torch
import torch.nn.functional as F

from rust_consts import const

DTYPE = torch.float64


def det(shape, k):
    """Deterministic tensor: element i (row-major) = sin(0.37*i + k)."""
    numel = math.prod(shape)
    i = torch.arange(numel, dtype=DTYPE)
    return torch.sin(0.37 * i + k).reshape(shape)


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def check_grad(fn, *inputs):
    """Finite-difference check of the analytic gradients torch computes."""
    ins = tuple(leaf(t) for t in inputs)
    assert torch.autograd.gradcheck(fn, ins, eps=1e-6, atol=1e-7, rtol=1e-6)


def value_and_grads(fn, *inputs):
    ins = [leaf(t) for t in inputs]
    out = fn(*ins)
    assert out.dim() == 0
    grads = torch.autograd.grad(out, ins)
    return out.detach(), [g.detach() for g in grads]


# ---------------------------------------------------------------- composites


# A: MLP with softmax cross-entropy.
MLP_T = torch.tensor([0, 2, 1, 2])


def mlp(X, W1, b1, W2, b2):
    h = torch.relu(X @ W1 + b1)
    logits = h @ W2 + b2
    return F.cross_entropy(logits, MLP_T)


def mlp_inputs():
    return (
        det([4, 5], 1),
        det([5, 6], 2) * 0.5,
        det([6], 3) * 0.1,
        det([6, 3], 4) * 0.5,
        det([3], 5) * 0.1,
    )


# B: broadcasted normalisation.
def norm(x, g, b, w):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, correction=0)
    y = (x - mu) / torch.sqrt(var + 1e-5) * g + b
    return (y * w).sum()


def norm_inputs():
    return det([3, 4, 5], 6), det([5], 7), det([5], 8), det([3, 4, 5], 9)


# C: batched matmul chain with broadcast batch dims.
def bmm(A, B, C):
    return (torch.tanh(A @ B @ C) ** 2).sum()


def bmm_inputs():
    return det([2, 1, 3, 4], 10), det([3, 4, 5], 11), det([5, 2], 12)


# D: softmax-with-loss, textbook.
SWL_T = torch.tensor([1, 0, 3])


def swl(logits):
    return F.cross_entropy(logits, SWL_T)


def swl_inputs():
    return (det([3, 4], 13) * 3,)


# E: long elementwise expression touching every unary op.
def elem(x, y):
    f = (
        torch.exp(x) * torch.sin(y)
        + torch.log(y) * torch.cos(x)
        + torch.sqrt(y) * torch.tanh(x)
        + torch.sigmoid(x * y)
        + torch.abs(x) * y**1.5
        + x**3 / y
        + torch.maximum(x, -x * 0.5)
        + torch.minimum(x * y, y - 2.5)
        + F.leaky_relu(x, 0.1)
        + F.gelu(x)  # exact erf form (approximate="none")
        + torch.clamp(x, -0.3, 0.4)
        + torch.pow(y, x)
    )
    return f.sum()


def elem_inputs():
    return det([6], 14) * 0.9, det([6], 15) * 0.5 + 2.0


# F: reductions.
def red(x):
    return (
        torch.logsumexp(x, dim=1).sum()
        + x.amax(dim=2).sum() * 0.5
        + x.amin(dim=0).sum() * 0.25
        + x.var(dim=(0, 2), correction=1).sum()
        + torch.log_softmax(x, dim=-1)[..., 0].sum()
        + torch.softmax(x, dim=0)[1].sum() * 2
    )


def red_inputs():
    return (det([3, 4, 5], 16),)


# ------------------------------------------------------------ sanity checks


def sanity_checks():
    # Non-smooth points must be avoided so the gradients are unambiguous.
    x, y = elem_inputs()
    assert (x.abs() > 1e-3).all()
    assert ((x - (-0.3)).abs() > 1e-3).all() and ((x - 0.4).abs() > 1e-3).all()
    assert ((x * y - (y - 2.5)).abs() > 1e-3).all()
    assert (x.abs() < 0.9).all() and (y > 0).all()

    X, W1, b1, _, _ = mlp_inputs()
    pre = X @ W1 + b1
    assert (pre.abs() > 1e-3).all(), "relu kink too close"

    (xr,) = red_inputs()
    for dim in (0, 2):
        top2 = xr.topk(2, dim=dim).values
        assert ((top2.select(dim, 0) - top2.select(dim, 1)).abs() > 1e-6).all()
        bot2 = (-xr).topk(2, dim=dim).values
        assert ((bot2.select(dim, 0) - bot2.select(dim, 1)).abs() > 1e-6).all()

    # D: gradient of mean cross-entropy is (softmax - onehot) / N.
    (logits,) = swl_inputs()
    _, (g,) = value_and_grads(swl, logits)
    expected = (torch.softmax(logits, dim=-1) - F.one_hot(SWL_T, 4).to(DTYPE)) / 3
    assert torch.allclose(g, expected, rtol=0, atol=1e-15), (g - expected).abs().max()

    # Finite-difference cross-check of every composite.
    check_grad(mlp, *mlp_inputs())
    check_grad(norm, *norm_inputs())
    check_grad(bmm, *bmm_inputs())
    check_grad(swl, *swl_inputs())
    check_grad(elem, *elem_inputs())
    check_grad(red, *red_inputs())


def main():
    sanity_checks()
    items = []

    def add(name, doc, t):
        items.append(const(name, doc, t))

    v, g = value_and_grads(mlp, *mlp_inputs())
    add("MLP_LOSS", "Composite A: mean softmax cross-entropy of the 5-6-3 `ReLU` MLP.", v)
    for name, grad, shape in zip(
        ["X", "W1", "B1", "W2", "B2"], g, ["[4, 5]", "[5, 6]", "[6]", "[6, 3]", "[3]"]
    ):
        add(
            f"MLP_GRAD_{name}",
            f"Composite A: d loss / d {name.lower() if name.startswith('B') else name}, "
            f"shape {shape}, row-major.",
            grad,
        )

    v, g = value_and_grads(norm, *norm_inputs())
    add("NORM_LOSS", "Composite B: sum(((x - mean) / sqrt(var + 1e-5) * g + b) * w) over the last axis.", v)
    add("NORM_GRAD_X", "Composite B: d loss / d x, shape [3, 4, 5], row-major.", g[0])
    add("NORM_GRAD_G", "Composite B: d loss / d g, shape [5].", g[1])
    add("NORM_GRAD_B", "Composite B: d loss / d b, shape [5].", g[2])

    v, g = value_and_grads(bmm, *bmm_inputs())
    add("BMM_LOSS", "Composite C: sum(tanh(A @ B @ C)^2) with broadcast batch dims.", v)
    add("BMM_GRAD_A", "Composite C: d loss / d A, shape [2, 1, 3, 4], row-major.", g[0])
    add("BMM_GRAD_B", "Composite C: d loss / d B, shape [3, 4, 5], row-major.", g[1])
    add("BMM_GRAD_C", "Composite C: d loss / d C, shape [5, 2], row-major.", g[2])

    v, g = value_and_grads(swl, *swl_inputs())
    add("SWL_LOSS", "Composite D: mean cross-entropy of logits det([3, 4], 13) * 3, t = [1, 0, 3].", v)
    add("SWL_GRAD", "Composite D: d loss / d logits = (softmax - onehot) / 3, shape [3, 4].", g[0])

    v, g = value_and_grads(elem, *elem_inputs())
    add("ELEM_VALUE", "Composite E: sum of the long elementwise expression.", v)
    add("ELEM_GRAD_X", "Composite E: d f / d x, shape [6].", g[0])
    add("ELEM_GRAD_Y", "Composite E: d f / d y, shape [6].", g[1])

    v, g = value_and_grads(red, *red_inputs())
    add("RED_VALUE", "Composite F: sum of the reduction terms.", v)
    add("RED_GRAD_X", "Composite F: d value / d x, shape [3, 4, 5], row-major.", g[0])

    header = f"""\
//! `PyTorch` reference values for nabla's autodiff tests.
//!
//! Produced by `tools/pytorch_reference/composites.py` with torch {torch.__version__}
//! in float64. Do not edit by hand: regenerate with
//! `python tools/pytorch_reference/composites.py > crates/nabla-core/tests/reference/pytorch_values.rs`.
//!
//! Inputs are deterministic: `det(shape, k)[i] = sin(0.37 * i + k)` for the
//! row-major flat index `i`, reshaped to `shape`. See the script for the
//! exact expression of each composite.
"""
    sys.stdout.write(header + "\n" + "\n\n".join(items) + "\n")


if __name__ == "__main__":
    main()
