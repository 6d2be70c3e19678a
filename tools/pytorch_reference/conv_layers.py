#!/usr/bin/env python3
"""float64 values, gradients and running statistics of BatchNorm2d and GroupNorm -> Rust consts.

Usage (from the repository root):

    /work/venv/bin/python tools/pytorch_reference/conv_layers.py \
        > crates/nabla-nn/tests/reference/torch_conv_layers.rs

Inputs are det(shape, k)[i] = sin(0.37 * i + k) (see README.md), rebuilt by the Rust tests.
BatchNorm2d(3): weight det([3], 9) * 0.5 + 1, bias det([3], 10) * 0.2; a training step on
det([2, 3, 2, 3], 5) * 2 + 1 whose output is weighted by det(.., 8) and summed for the
gradients, two more training steps on det([2, 3, 2, 3], 6) * 3 - 0.5 and det([3, 3, 1, 2], 4),
then evaluation on det([2, 3, 2, 2], 7).
GroupNorm(2, 4): weight det([4], 12) * 0.5 + 1, bias det([4], 13) * 0.1, input
det([2, 4, 2, 3], 11), output weighted by det(.., 14) for the gradients.
"""

import math

import torch

from rust_consts import const

torch.set_default_dtype(torch.float64)


def det(shape, k):
    n = math.prod(shape)
    return torch.tensor([math.sin(0.37 * i + k) for i in range(n)]).reshape(shape)


def main():
    out = [
        f"//! BatchNorm2d and GroupNorm in float64 from torch {torch.__version__.split('+')[0]},\n"
        "//! printed by tools/pytorch_reference/conv_layers.py."
    ]

    bn = torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(det([3], 9.0) * 0.5 + 1)
        bn.bias.copy_(det([3], 10.0) * 0.2)
    x = (det([2, 3, 2, 3], 5.0) * 2 + 1).requires_grad_()
    y = bn(x)
    (y * det([2, 3, 2, 3], 8.0)).sum().backward()
    out.append(const("BN2D_Y1", "Training output of the first step.", y))
    out.append(const("BN2D_GRAD_X", "Gradient of the input.", x.grad))
    out.append(const("BN2D_GRAD_W", "Gradient of the weight.", bn.weight.grad))
    out.append(const("BN2D_GRAD_B", "Gradient of the bias.", bn.bias.grad))
    with torch.no_grad():
        bn(det([2, 3, 2, 3], 6.0) * 3 - 0.5)
        bn(det([3, 3, 1, 2], 4.0))
    assert int(bn.num_batches_tracked) == 3
    out.append(const("BN2D_RUNNING_MEAN", "Running mean after three steps.", bn.running_mean))
    out.append(const("BN2D_RUNNING_VAR", "Running variance after three steps.", bn.running_var))
    bn.eval()
    with torch.no_grad():
        out.append(const("BN2D_EVAL_Y", "Evaluation output.", bn(det([2, 3, 2, 2], 7.0))))

    gn = torch.nn.GroupNorm(2, 4)
    with torch.no_grad():
        gn.weight.copy_(det([4], 12.0) * 0.5 + 1)
        gn.bias.copy_(det([4], 13.0) * 0.1)
    x = det([2, 4, 2, 3], 11.0).requires_grad_()
    y = gn(x)
    (y * det([2, 4, 2, 3], 14.0)).sum().backward()
    out.append(const("GN_Y", "GroupNorm(2, 4) output.", y))
    out.append(const("GN_GRAD_X", "Gradient of the input.", x.grad))
    out.append(const("GN_GRAD_W", "Gradient of the weight.", gn.weight.grad))
    out.append(const("GN_GRAD_B", "Gradient of the bias.", gn.bias.grad))
    print("\n\n".join(out))


if __name__ == "__main__":
    main()
