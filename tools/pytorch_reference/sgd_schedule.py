#!/usr/bin/env python3
"""torch.optim.SGD trajectories (float64) across a learning-rate change, for nabla's `Sgd`
with momentum, dampening, Nesterov and weight decay. Pinned by crates/nabla-nn/tests/optim.rs.

Usage (from the repository root):

    /work/venv/bin/python tools/pytorch_reference/sgd_schedule.py \
        > crates/nabla-nn/tests/reference/torch_sgd.rs

The loss is the one of crates/nabla-nn/tests/optim.rs: L = 1/4 sum(w^4) + sum(cw * w)
+ 1/4 sum(b^4) + sum(cb * b). The learning rate is 0.1 for steps 1-3 and 0.03 for steps 4-6
(set in the param group between steps, as a scheduler does). It also prints, as a comment,
how far the textbook momentum rule v = a v - lr g, w = w + v drifts from SGD(momentum=a)
after the change: the two agree while the rate is constant.
"""

import sys

import torch

from rust_consts import const

torch.set_default_dtype(torch.float64)

W0 = [[0.5, -1.0, 1.5], [2.0, -0.25, 0.75]]
B0 = [0.1, -0.2]
CW = [[0.3, -0.1, 0.2], [-0.5, 0.4, 0.0]]
CB = [1.0, -2.0]
RATES = [0.1, 0.1, 0.1, 0.03, 0.03, 0.03]

CONFIGS = [
    ("MOMENTUM", "momentum=0.9", dict(momentum=0.9)),
    ("NESTEROV", "momentum=0.9, nesterov=True", dict(momentum=0.9, nesterov=True)),
    ("DAMPENING", "momentum=0.9, dampening=0.5", dict(momentum=0.9, dampening=0.5)),
    (
        "NESTEROV_DECAY",
        "momentum=0.9, nesterov=True, weight_decay=0.01",
        dict(momentum=0.9, nesterov=True, weight_decay=0.01),
    ),
    (
        "ALL",
        "momentum=0.5, dampening=0.3, weight_decay=0.05",
        dict(momentum=0.5, dampening=0.3, weight_decay=0.05),
    ),
]


def gradient(w, b):
    cw, cb = torch.tensor(CW), torch.tensor(CB)
    return w**3 + cw, b**3 + cb


def run(**options):
    w = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    cw, cb = torch.tensor(CW), torch.tensor(CB)
    opt = torch.optim.SGD([w, b], lr=RATES[0], **options)
    out = []
    for lr in RATES:
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        loss = 0.25 * (w**4).sum() + (cw * w).sum() + 0.25 * (b**4).sum() + (cb * b).sum()
        loss.backward()
        opt.step()
        out.append(torch.cat([w.detach().flatten(), b.detach()]))
    return out


def textbook(momentum):
    w, b = torch.tensor(W0), torch.tensor(B0)
    vw, vb = torch.zeros_like(w), torch.zeros_like(b)
    out = []
    for lr in RATES:
        gw, gb = gradient(w, b)
        vw, vb = momentum * vw - lr * gw, momentum * vb - lr * gb
        w, b = w + vw, b + vb
        out.append(torch.cat([w.flatten(), b]))
    return out


def main():
    items = []
    for name, text, options in CONFIGS:
        trace = run(**options)
        for step in (3, 6):
            items.append(
                const(
                    f"SGD_{name}_STEP_{step}",
                    f"torch.optim.SGD({text}): w (flattened) then b after step {step}.",
                    trace[step - 1].tolist(),
                )
            )
    drift = (textbook(0.9)[-1] - run(momentum=0.9)[-1]).abs().max().item()
    same = (textbook(0.9)[2] - run(momentum=0.9)[2]).abs().max().item()
    header = f"""\
//! `torch.optim.SGD` trajectories across a learning-rate change (0.1 for steps 1-3, 0.03 for
//! steps 4-6), on the loss of `tests/optim.rs`.
//!
//! Produced by `tools/pytorch_reference/sgd_schedule.py` with torch {torch.__version__} in
//! float64. Do not edit by hand: regenerate with
//! `python tools/pytorch_reference/sgd_schedule.py > crates/nabla-nn/tests/reference/torch_sgd.rs`.
//!
//! The textbook momentum rule (v = 0.9 v - lr g) differs from SGD(momentum=0.9) by at most
//! {same:.1e} after step 3 (constant rate) and by {drift:.3f} after step 6.
"""
    sys.stdout.write(header + "\n" + "\n\n".join(items) + "\n")


if __name__ == "__main__":
    main()
