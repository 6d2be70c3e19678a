"""Convolutions in float64: outputs and gradients of conv1d, conv2d, conv_transpose2d, pad and
unfold over several configurations, printed as Rust constants for
crates/nabla-core/tests/pytorch_conv.rs.

Every input is det(shape, k)[i] = sin(0.37 i + k); the loss is sum(y * det(y.shape, 9)), so
the gradients weigh each output differently. Each configuration's gradients are checked
against finite differences (torch.autograd.gradcheck) before printing.
"""

import math

import torch
import torch.nn.functional as F

from rust_consts import const

torch.set_default_dtype(torch.float64)


def det(shape, k):
    n = math.prod(shape)
    return torch.sin(0.37 * torch.arange(n, dtype=torch.float64) + k).reshape(shape)


# name, function, input shapes (the bias is the third when there is one), doc
CONFIGS = [
    ("C2_STRIDE_PAD", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
     [(2, 2, 5, 5), (3, 2, 3, 3), (3,)], "conv2d stride 2, padding 1, with bias"),
    ("C2_DIL_GROUPS", lambda x, w: F.conv2d(x, w, None, padding=(1, 0), dilation=2, groups=2),
     [(1, 4, 5, 6), (4, 2, 2, 2)], "conv2d padding (1, 0), dilation 2, groups 2, no bias"),
    ("C2_SAME", lambda x, w, b: F.conv2d(x, w, b, padding="same"),
     [(1, 1, 4, 5), (2, 1, 2, 3), (2,)], "conv2d padding same with a 2x3 kernel (odd totals)"),
    ("C2_MIXED", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
     [(2, 3, 6, 6), (4, 3, 3, 3), (4,)], "conv2d stride (2, 1), padding (0, 2), dilation (1, 2)"),
    ("C2_POINTWISE", lambda x, w, b: F.conv2d(x, w, b),
     [(2, 3, 3, 3), (2, 3, 1, 1), (2,)], "conv2d 1x1 kernel"),
    ("C2_POINTWISE_STRIDE", lambda x, w: F.conv2d(x, w, None, stride=2, padding=1),
     [(1, 2, 4, 4), (3, 2, 1, 1)], "conv2d 1x1 kernel, stride 2, padding 1"),
    ("C1_STRIDE_GROUPS", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, groups=2),
     [(2, 2, 7), (4, 1, 3), (4,)], "conv1d stride 2, padding 1, groups 2"),
    ("C1_SAME_DIL", lambda x, w: F.conv1d(x, w, None, padding="same", dilation=2),
     [(1, 3, 8), (2, 3, 4)], "conv1d padding same, dilation 2"),
    ("CT_STRIDE", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                     output_padding=(1, 0)),
     [(1, 2, 3, 3), (2, 3, 3, 3), (3,)],
     "conv_transpose2d stride 2, padding 1, output padding (1, 0)"),
    ("CT_GROUPS", lambda x, w: F.conv_transpose2d(x, w, None, stride=(1, 2), dilation=2, groups=2),
     [(2, 4, 3, 3), (4, 1, 2, 2)], "conv_transpose2d stride (1, 2), dilation 2, groups 2"),
    ("PAD", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5),
     [(2, 3)], "pad (1, 2) on the last dim, (0, 1) on the first, value 0.5"),
    ("UNFOLD", lambda x: F.unfold(x, (2, 3), stride=(1, 2), padding=(1, 0)),
     [(1, 2, 4, 4)], "unfold kernel (2, 3), stride (1, 2), padding (1, 0)"),
    ("UNFOLD_DIL", lambda x: F.unfold(x, 2, dilation=2, padding=1),
     [(2, 1, 3, 4)], "unfold kernel 2, dilation 2, padding 1"),
]

GRAD_NAMES = ["DX", "DW", "DB"]


def main():
    print("//! PyTorch's float64 outputs and gradients of the convolutions, one block per")
    print("//! configuration: inputs `det(shape, k)` with k = 1, 2, 3 in order, the loss")
    print("//! `sum(y * det(y.shape, 9))`.")
    print("//!")
    print(f"//! Produced by `tools/pytorch_reference/conv.py` with torch {torch.__version__} in")
    print("//! float64. Do not edit by hand: regenerate with")
    print("//! `python tools/pytorch_reference/conv.py > crates/nabla-core/tests/reference/pytorch_conv.rs`.")
    for name, f, shapes, doc in CONFIGS:
        inputs = [det(s, k + 1).requires_grad_() for k, s in enumerate(shapes)]
        assert torch.autograd.gradcheck(f, inputs), name
        y = f(*inputs)
        (y * det(tuple(y.shape), 9)).sum().backward()
        print()
        print(const(f"{name}_SHAPE", f"{doc}: output shape.", list(y.shape), kind="usize"))
        print(const(f"{name}_Y", f"{doc}: output.", y))
        for g, t in zip(GRAD_NAMES, inputs):
            print(const(f"{name}_{g}", f"{doc}: gradient of input {g[1:].lower()}.", t.grad))

    # A NaN in the input: only the outputs whose window covers it are NaN, and only the weight
    # gradients that multiply it.
    x = det((1, 1, 5, 5), 1)
    x[0, 0, 0, 0] = float("nan")
    x.requires_grad_()
    w = det((1, 1, 3, 3), 2).requires_grad_()
    y = F.conv2d(x, w)
    (y * det(tuple(y.shape), 9)).sum().backward()
    doc = "conv2d 3x3 of a 5x5 input with a NaN at (0, 0)"
    print()
    print(const("NAN_Y", f"{doc}: output.", y))
    print(const("NAN_DX", f"{doc}: gradient of the input.", x.grad))
    print(const("NAN_DW", f"{doc}: gradient of the weight.", w.grad))


main()
