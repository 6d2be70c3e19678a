"""The names PyTorch gives the grad_fn of each operation the Python package covers, pinned in
python/tests/test_grad_fn_names.py. Run with the PyTorch interpreter:

    /path/to/venv-with-torch/bin/python tools/pytorch_reference/python_grad_fn_names.py
"""

import json

import torch

x = torch.randn(2, 3, requires_grad=True)
y = torch.randn(2, 3, requires_grad=True)
m = torch.randn(3, 4, requires_grad=True)
v = torch.randn(3, requires_grad=True)
s = torch.randn(1, 3, requires_grad=True)
F = torch.nn.functional

CASES = {
    "x + y": lambda: x + y,
    "x + 2": lambda: x + 2,
    "2 + x": lambda: 2 + x,
    "x - y": lambda: x - y,
    "x - 2": lambda: x - 2,
    "2 - x": lambda: 2 - x,
    "x * y": lambda: x * y,
    "x * 2": lambda: x * 2,
    "x / y": lambda: x / y,
    "x / 2": lambda: x / 2,
    "2 / x": lambda: 2 / x,
    "-x": lambda: -x,
    "x ** 2": lambda: x ** 2,
    "x ** y": lambda: x ** y,
    "x @ m": lambda: x @ m,
    "v @ v": lambda: v @ v,
    "x @ v": lambda: x @ v,
    "x.matmul(m)": lambda: x.matmul(m),
    "x.sum()": lambda: x.sum(),
    "x.sum(1)": lambda: x.sum(1),
    "x.mean()": lambda: x.mean(),
    "x.mean(1)": lambda: x.mean(1),
    "x.max()": lambda: x.max(),
    "x.exp()": lambda: x.exp(),
    "x.log()": lambda: x.log(),
    "x.abs()": lambda: x.abs(),
    "x.sqrt()": lambda: x.sqrt(),
    "x.tanh()": lambda: x.tanh(),
    "x.sigmoid()": lambda: x.sigmoid(),
    "x.relu()": lambda: x.relu(),
    "x.view(3, 2)": lambda: x.view(3, 2),
    "x.view(-1)": lambda: x.view(-1),
    "x.reshape(3, 2)": lambda: x.reshape(3, 2),
    "x.flatten()": lambda: x.flatten(),
    "x.permute(1, 0)": lambda: x.permute(1, 0),
    "x.transpose(0, 1)": lambda: x.transpose(0, 1),
    "x.t()": lambda: x.t(),
    "x.T": lambda: x.T,
    "x.unsqueeze(0)": lambda: x.unsqueeze(0),
    "s.squeeze()": lambda: s.squeeze(),
    "s.squeeze(0)": lambda: s.squeeze(0),
    "x[0]": lambda: x[0],
    "x[:, 1:]": lambda: x[:, 1:],
    "x.clone()": lambda: x.clone(),
    "x.double()": lambda: x.double(),
    "torch.cat([x, y])": lambda: torch.cat([x, y]),
    "torch.stack([x, y])": lambda: torch.stack([x, y]),
    "F.softmax(x, 1)": lambda: F.softmax(x, 1),
    "F.log_softmax(x, 1)": lambda: F.log_softmax(x, 1),
    "F.mse_loss(x, y)": lambda: F.mse_loss(x, y),
}

print(json.dumps({k: f().grad_fn.name() for k, f in CASES.items()}, indent=1))
