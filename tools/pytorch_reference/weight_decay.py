#!/usr/bin/env python3
"""torch.optim.Adam and torch.optim.RMSprop with weight_decay (L2 added to the gradient), in
float64, for nabla's `Optim::with_weight_decay`. Pinned by crates/nabla-nn/tests/optim.rs.

Usage (from the repository root):

    /work/venv/bin/python tools/pytorch_reference/weight_decay.py \
        > crates/nabla-nn/tests/reference/torch_weight_decay.rs

The loss is the one of crates/nabla-nn/tests/optim.rs: L = 1/4 sum(w^4) + sum(cw * w)
+ 1/4 sum(b^4) + sum(cb * b); three steps, the parameters after the first and the third.
"""

import torch

from rust_consts import const

torch.set_default_dtype(torch.float64)

W0 = [[0.5, -1.0, 1.5], [2.0, -0.25, 0.75]]
B0 = [0.1, -0.2]
CW = [[0.3, -0.1, 0.2], [-0.5, 0.4, 0.0]]
CB = [1.0, -2.0]

CONFIGS = [
    (
        "ADAM_DECAY",
        "Adam(lr=0.1, weight_decay=0.1)",
        torch.optim.Adam,
        dict(lr=0.1, weight_decay=0.1),
    ),
    (
        "RMSPROP_DECAY",
        "RMSprop(lr=0.01, weight_decay=0.1)",
        torch.optim.RMSprop,
        dict(lr=0.01, weight_decay=0.1),
    ),
]


def trace(make, kwargs, steps=3):
    w = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    cw, cb = torch.tensor(CW), torch.tensor(CB)
    opt = make([w, b], **kwargs)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.25 * (w**4).sum() + (cw * w).sum() + 0.25 * (b**4).sum() + (cb * b).sum()
        loss.backward()
        opt.step()
        out.append(w.detach().flatten().tolist() + b.detach().tolist())
    return out


def main():
    print(
        "//! `torch.optim.Adam` and `torch.optim.RMSprop` with `weight_decay` (L2 added to the\n"
        "//! gradient) on the loss of `tests/optim.rs`.\n"
        "//!\n"
        f"//! Produced by `tools/pytorch_reference/weight_decay.py` with torch {torch.__version__} in\n"
        "//! float64. Do not edit by hand: regenerate with\n"
        "//! `python tools/pytorch_reference/weight_decay.py > "
        "crates/nabla-nn/tests/reference/torch_weight_decay.rs`."
    )
    for name, doc, make, kwargs in CONFIGS:
        steps = trace(make, kwargs)
        for step in (1, 3):
            print()
            doc_line = f"torch.optim.{doc}: w (flattened) then b after step {step}."
            print(const(f"{name}_STEP_{step}", doc_line, steps[step - 1]))


if __name__ == "__main__":
    main()
