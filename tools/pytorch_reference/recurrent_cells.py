"""LSTM and GRU cells and embedding in float64: outputs and gradients, printed as Rust
constants for crates/nabla-core/tests/pytorch_recurrent.rs.

The cells: torch's own cell ops (`torch._VF.lstm_cell`, `torch._VF.gru_cell`, what
torch.nn.LSTMCell and GRUCell call) with given weights; nabla computes the same as two `linear`s
and its cell op. The edge cases (a NaN in a gate, infinite pre-activations, H = 1) feed the
gate pre-activations directly, through the same operations, in the same order, as the CPU cells
of aten/src/ATen/native/RNN.cpp. Embedding: F.embedding with repeated indices, with and without
padding_idx.

Every input is det(shape, k)[i] = sin(0.37 i + k) unless printed; the loss is
sum(y * det(y.shape, 9)). The cells' gradients are checked against finite differences
(torch.autograd.gradcheck) before printing.
"""

import math

import torch
import torch.nn.functional as F

from rust_consts import const

torch.set_default_dtype(torch.float64)


def det(shape, k):
    n = math.prod(shape)
    return torch.sin(0.37 * torch.arange(n, dtype=torch.float64) + k).reshape(shape)


def lstm(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """torch.nn.LSTMCell's step: [h' | c']."""
    hy, cy = torch._VF.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return torch.cat([hy, cy], 1)


def gru(x, h, w_ih, w_hh, b_ih, b_hh):
    """torch.nn.GRUCell's step: h'."""
    return torch._VF.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)


def lstm_gates(ig, hg, c):
    """The LSTM cell of RNN.cpp from the gate pre-activations: [h' | c']."""
    gates = hg + ig
    i, f, g, o = gates.chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    cy = f * c + i * g
    return torch.cat([o * cy.tanh(), cy], 1)


def gru_gates(ig, hg, h):
    """The GRU cell of RNN.cpp from the gate pre-activations: h'."""
    xr, xz, xn = ig.chunk(3, 1)
    hr, hz, hn = hg.chunk(3, 1)
    r = (hr + xr).sigmoid()
    z = (hz + xz).sigmoid()
    n = (xn + hn * r).tanh()
    return (h - n) * z + n


def emit(name, doc, f, inputs, check=True, print_inputs=False):
    inputs = [t.detach().clone().requires_grad_() for t in inputs]
    if check:
        assert torch.autograd.gradcheck(f, inputs), name
    y = f(*inputs)
    (y * det(tuple(y.shape), 9)).sum().backward()
    print()
    print(const(f"{name}_SHAPE", f"{doc}: output shape.", list(y.shape), kind="usize"))
    if print_inputs:
        for k, t in enumerate(inputs):
            print(const(f"{name}_IN{k}", f"{doc}: input {k}.", t))
    print(const(f"{name}_Y", f"{doc}: output.", y))
    for k, t in enumerate(inputs):
        print(const(f"{name}_D{k}", f"{doc}: gradient of input {k}.", t.grad))


def with_values(t, values):
    t = t.clone()
    for index, v in values:
        t[index] = v
    return t


def main():
    print("//! PyTorch's float64 outputs and gradients of the LSTM and GRU cells and of embedding,")
    print("//! one block per case: inputs `det(shape, k)` with k = 1, 2, ... in order unless")
    print("//! printed, the loss `sum(y * det(y.shape, 9))`.")
    print("//!")
    print(f"//! Produced by `tools/pytorch_reference/recurrent_cells.py` with torch {torch.__version__}")
    print("//! in float64. Do not edit by hand: regenerate with")
    print("//! `python tools/pytorch_reference/recurrent_cells.py > crates/nabla-core/tests/reference/pytorch_recurrent.rs`.")

    # Cells with weights: x [N, I], h [N, H], c [N, H], W_ih [G·H, I], W_hh [G·H, H], biases.
    for (n, i, h, tag) in [(3, 4, 5, ""), (2, 3, 1, "_H1")]:
        emit(f"LSTM{tag}", f"LSTMCell N={n} I={i} H={h} (inputs x, h, c, W_ih, W_hh, b_ih, b_hh)",
             lstm, [det(s, k + 1) for k, s in enumerate(
                 [(n, i), (n, h), (n, h), (4 * h, i), (4 * h, h), (4 * h,), (4 * h,)])])
        emit(f"GRU{tag}", f"GRUCell N={n} I={i} H={h} (inputs x, h, W_ih, W_hh, b_ih, b_hh)",
             gru, [det(s, k + 1) for k, s in enumerate(
                 [(n, i), (n, h), (3 * h, i), (3 * h, h), (3 * h,), (3 * h,)])])

    # Gate pre-activations with a NaN, and with infinities (saturated gates: finite values,
    # zero local gradients). H = 3, N = 2.
    nan, inf = float("nan"), float("inf")
    ig = det((2, 12), 1) * 3
    hg = det((2, 12), 2)
    c = det((2, 3), 3)
    emit("LSTM_NAN", "lstm gates with a NaN in the i gate of (0, 1) and the f gate of (1, 2)",
         lstm_gates, [with_values(ig, [((0, 1), nan), ((1, 5), nan)]), hg, c],
         check=False, print_inputs=True)
    emit("LSTM_INF", "lstm gates with infinite pre-activations in every gate",
         lstm_gates, [with_values(ig, [((0, 0), inf), ((0, 4), -inf), ((0, 7), inf), ((0, 10), -inf),
                                       ((1, 2), -inf), ((1, 3), inf), ((1, 8), -inf), ((1, 9), inf)]),
                      hg, c],
         check=False, print_inputs=True)
    ig = det((2, 9), 1) * 3
    hg = det((2, 9), 2)
    hs = det((2, 3), 3)
    emit("GRU_NAN", "gru gates with a NaN in the r gate of (0, 1) and the hidden n gate of (1, 2)",
         gru_gates, [with_values(ig, [((0, 1), nan)]), with_values(hg, [((1, 8), nan)]), hs],
         check=False, print_inputs=True)
    emit("GRU_INF", "gru gates with infinite pre-activations in every gate",
         gru_gates, [with_values(ig, [((0, 0), inf), ((0, 4), -inf), ((0, 7), inf),
                                      ((1, 2), -inf), ((1, 3), inf), ((1, 8), -inf)]),
                     hg, hs],
         check=False, print_inputs=True)

    # Embedding: a weight [5, 4], indices [2, 3] with repeats (row 1 three times, row 3 twice).
    indices = torch.tensor([[1, 3, 1], [0, 3, 1]])
    print()
    print(const("EMB_INDICES", "embedding indices [2, 3].", indices.reshape(-1), kind="i64"))
    emit("EMB", "embedding of a weight [5, 4], no padding", lambda w: F.embedding(indices, w),
         [det((5, 4), 1)])
    emit("EMB_PAD", "embedding of a weight [5, 4], padding_idx 1",
         lambda w: F.embedding(indices, w, padding_idx=1), [det((5, 4), 1)], check=False)


main()
