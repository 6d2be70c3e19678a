#!/usr/bin/env python3
"""float64 outputs, final states and gradients of PyTorch's recurrent layers -> a safetensors
fixture nabla-nn's tests load (crates/nabla-nn/tests/recurrent.rs).

Usage (from the repository root):

    # PyTorch -> nabla: write the fixture nabla-nn's tests load
    /work/venv/bin/python tools/pytorch_reference/recurrent_layers.py write
    #   -> crates/nabla-nn/tests/data/torch_recurrent.safetensors

    # nabla -> PyTorch: load the LSTM nabla's tests wrote into torch.nn.LSTM and compare
    /work/venv/bin/python tools/pytorch_reference/recurrent_layers.py check
    #   reads crates/nabla-nn/tests/data/nabla_lstm.safetensors: nabla's state dict of a
    #   2-layer bidirectional LSTM(3, 4), its "input" [5, 3, 3] and nabla's "output", "h_n",
    #   "c_n"; exits non-zero unless torch.nn.LSTM loads the state dict with strict names and
    #   computes all three within 1e-12.

Every case is a torch module in float64 with PyTorch's own initialisation after
torch.manual_seed(seed), input size 3, hidden size 4, T = 5 steps, N = 3 sequences. For a case
named `c` the file holds:

- `c.param.<name>`: the module's state dict (PyTorch's names, in its order: the metadata key
  `c.names` lists them comma-separated);
- `c.input` (and `c.h0`, `c.c0` for the cases given initial states, `c.lengths` (int64) for
  variable lengths);
- `c.output`, `c.h_n`, `c.c_n`: what the module returns (for a cell: `c.output` is h', `c.c_n`
  the LSTM's c'); with lengths, `c.output` is the padded output with zeros past each length
  (pack_padded_sequence with enforce_sorted=False, then pad_packed_sequence);
- `c.w_output`, `c.w_h_n`, `c.w_c_n`: the weights of the scalar loss
  sum(output * w_output) + sum(h_n * w_h_n) + sum(c_n * w_c_n), det(shape, k) as in README.md;
- `c.grad.input`, `c.grad.h0`, `c.grad.c0`, `c.grad.<param>`: its gradients.

The Embedding case `embedding` (6 rows of 3, padding_idx 2) has `param.weight`, int64
`input` [2, 3] holding the padding index, `output`, `w_output` and `grad.weight` (zero in the
padding row).
"""

import math
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

torch.set_default_dtype(torch.float64)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "crates" / "nabla-nn" / "tests" / "data"
OUT = DATA / "torch_recurrent.safetensors"
I, H, T, N = 3, 4, 5, 3
LENGTHS = [5, 2, 4]


def det(shape, k):
    n = math.prod(shape)
    return torch.tensor([math.sin(0.37 * i + k) for i in range(n)]).reshape(shape)


class Fixture:
    def __init__(self):
        self.tensors = {}
        self.metadata = {}

    def module(self, case, module):
        state = module.state_dict()
        self.metadata[f"{case}.names"] = ",".join(state)
        for name, t in state.items():
            self.tensors[f"{case}.param.{name}"] = t.detach().clone()

    def results(self, case, module, results, inputs):
        """Saves `results` (name -> tensor), the loss weights, and the gradients of the loss
        with respect to `inputs` (name -> tensor) and every parameter."""
        loss = 0
        for k, (name, t) in enumerate(results.items()):
            w = det(list(t.shape), 30.0 + k)
            self.tensors[f"{case}.{name}"] = t.detach().clone()
            self.tensors[f"{case}.w_{name}"] = w
            loss = loss + (t * w).sum()
        params = dict(module.named_parameters())
        grads = torch.autograd.grad(loss, list(inputs.values()) + list(params.values()))
        for name, g in zip(list(inputs) + list(params), grads):
            self.tensors[f"{case}.grad.{name}"] = g.detach().clone()
        for name, t in inputs.items():
            self.tensors[f"{case}.{name}"] = t.detach().clone()


def cells(fx):
    x = det([N, I], 1.0).requires_grad_()
    h0 = (det([N, H], 2.0) * 0.5).requires_grad_()
    c0 = (det([N, H], 3.0) * 0.5).requires_grad_()
    for case, make in [
        ("cell_rnn_tanh", lambda: torch.nn.RNNCell(I, H, nonlinearity="tanh")),
        ("cell_rnn_relu", lambda: torch.nn.RNNCell(I, H, nonlinearity="relu")),
        ("cell_gru", lambda: torch.nn.GRUCell(I, H)),
        ("cell_lstm", lambda: torch.nn.LSTMCell(I, H)),
    ]:
        torch.manual_seed(len(fx.tensors))
        cell = make()
        fx.module(case, cell)
        if case == "cell_lstm":
            h, c = cell(x, (h0, c0))
            fx.results(case, cell, {"output": h, "c_n": c}, {"input": x, "h0": h0, "c0": c0})
        else:
            fx.results(case, cell, {"output": cell(x, h0)}, {"input": x, "h0": h0})


def sequences(fx):
    cases = [
        # name, class, kwargs, initial states, lengths
        ("rnn_tanh", torch.nn.RNN, {}, False, False),
        ("rnn_relu", torch.nn.RNN, {"nonlinearity": "relu"}, False, False),
        ("lstm", torch.nn.LSTM, {}, False, False),
        ("gru", torch.nn.GRU, {}, False, False),
        ("rnn_2", torch.nn.RNN, {"num_layers": 2}, False, False),
        ("lstm_2", torch.nn.LSTM, {"num_layers": 2}, False, False),
        ("gru_2", torch.nn.GRU, {"num_layers": 2}, False, False),
        ("rnn_bi", torch.nn.RNN, {"bidirectional": True}, False, False),
        ("lstm_bi", torch.nn.LSTM, {"bidirectional": True}, False, False),
        ("gru_bi", torch.nn.GRU, {"bidirectional": True}, False, False),
        ("lstm_2_bi", torch.nn.LSTM, {"num_layers": 2, "bidirectional": True}, False, False),
        ("lstm_init", torch.nn.LSTM, {"num_layers": 2, "bidirectional": True}, True, False),
        ("gru_init", torch.nn.GRU, {"num_layers": 2, "bidirectional": True}, True, False),
        ("rnn_init", torch.nn.RNN, {"num_layers": 2}, True, False),
        ("lstm_batch_first", torch.nn.LSTM, {"batch_first": True, "num_layers": 2}, True, False),
        ("gru_batch_first", torch.nn.GRU, {"batch_first": True}, False, False),
        ("lstm_nobias", torch.nn.LSTM, {"bias": False}, False, False),
        ("lstm_lengths", torch.nn.LSTM, {"num_layers": 2, "bidirectional": True}, True, True),
        ("gru_lengths", torch.nn.GRU, {"num_layers": 2, "bidirectional": True}, False, True),
        ("rnn_lengths", torch.nn.RNN, {"bidirectional": True}, False, True),
        ("lstm_lengths_batch_first", torch.nn.LSTM,
         {"bidirectional": True, "batch_first": True}, False, True),
    ]
    for case, cls, kwargs, initial, lengths in cases:
        torch.manual_seed(len(fx.tensors))
        layer = cls(I, H, **kwargs)
        fx.module(case, layer)
        batch_first = kwargs.get("batch_first", False)
        rows = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
        x = det([N, T, I] if batch_first else [T, N, I], 1.0).requires_grad_()
        inputs = {"input": x}
        state = None
        lstm = cls is torch.nn.LSTM
        if initial:
            h0 = (det([rows, N, H], 2.0) * 0.5).requires_grad_()
            inputs["h0"] = h0
            state = h0
            if lstm:
                c0 = (det([rows, N, H], 3.0) * 0.5).requires_grad_()
                inputs["c0"] = c0
                state = (h0, c0)
        if lengths:
            fx.tensors[f"{case}.lengths"] = torch.tensor(LENGTHS, dtype=torch.int64)
            packed = torch.nn.utils.rnn.pack_padded_sequence(
                x, torch.tensor(LENGTHS), batch_first=batch_first, enforce_sorted=False)
            out, final = layer(packed, state)
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=T)
        else:
            out, final = layer(x, state)
        results = {"output": out}
        if lstm:
            results.update(h_n=final[0], c_n=final[1])
        else:
            results["h_n"] = final
        fx.results(case, layer, results, inputs)

    # Unbatched: [T, I] with a [L·D, H] initial state.
    case = "lstm_unbatched"
    torch.manual_seed(len(fx.tensors))
    layer = torch.nn.LSTM(I, H, bidirectional=True)
    fx.module(case, layer)
    x = det([T, I], 1.0).requires_grad_()
    h0 = (det([2, H], 2.0) * 0.5).requires_grad_()
    c0 = (det([2, H], 3.0) * 0.5).requires_grad_()
    out, (h, c) = layer(x, (h0, c0))
    fx.results(case, layer, {"output": out, "h_n": h, "c_n": c}, {"input": x, "h0": h0, "c0": c0})


def embedding(fx):
    torch.manual_seed(7)
    emb = torch.nn.Embedding(6, 3, padding_idx=2)
    with torch.no_grad():
        emb.weight[2] = det([3], 5.0)  # a padding row that is not zero still passes no gradient
    fx.module("embedding", emb)
    idx = torch.tensor([[2, 4, 0], [5, 2, 4]], dtype=torch.int64)
    fx.tensors["embedding.input"] = idx
    out = emb(idx)
    w = det(list(out.shape), 30.0)
    (g,) = torch.autograd.grad((out * w).sum(), [emb.weight])
    assert g[2].abs().sum() == 0
    fx.tensors["embedding.output"] = out.detach().clone()
    fx.tensors["embedding.w_output"] = w
    fx.tensors["embedding.grad.weight"] = g


def check():
    tensors = load_file(DATA / "nabla_lstm.safetensors")
    io = {k: tensors.pop(k) for k in ("input", "output", "h_n", "c_n")}
    lstm = torch.nn.LSTM(I, H, num_layers=2, bidirectional=True)
    lstm.load_state_dict(tensors, strict=True)
    with torch.no_grad():
        out, (h, c) = lstm(io["input"])
    worst = max((got - io[k]).abs().max().item() for k, got in (("output", out), ("h_n", h), ("c_n", c)))
    print(f"torch.nn.LSTM on nabla's state dict: largest difference from nabla {worst:.3g}")
    if worst > 1e-12:
        sys.exit("nabla's LSTM and torch's differ by more than 1e-12")


def write():
    fx = Fixture()
    cells(fx)
    sequences(fx)
    embedding(fx)
    fx.metadata["torch"] = torch.__version__.split("+")[0]
    save_file({k: v.contiguous() for k, v in fx.tensors.items()}, str(OUT), metadata=fx.metadata)
    print(f"wrote {OUT.relative_to(REPO)} ({len(fx.tensors)} tensors) with torch {torch.__version__}")


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1] if len(sys.argv) > 1 else "write"]()
