"""float64 values and gradients of the two-layer network whose chain rule
crates/nabla-inspect/tests/explain.rs pins: x [2, 3] -> Linear(3, 4) -> ReLU ->
Linear(4, 3) -> softmax-with-loss (cross-entropy) against targets [2, 0].
Prints JSON: every intermediate value and every gradient, row-major."""

import json
import math

import torch

torch.set_default_dtype(torch.float64)

x = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.1, -1.0]])
W1 = torch.tensor([math.sin(i * 0.37) * 0.5 for i in range(12)]).reshape(4, 3).requires_grad_()
b1 = torch.tensor([0.1, -0.1, 0.0, 0.2]).requires_grad_()
W2 = torch.tensor([math.cos(i * 0.71) * 0.5 for i in range(12)]).reshape(3, 4).requires_grad_()
b2 = torch.tensor([0.0, 0.1, -0.1]).requires_grad_()
t = torch.tensor([2, 0])

a1 = x @ W1.T + b1
a1.retain_grad()
h = torch.relu(a1)
h.retain_grad()
z = h @ W2.T + b2
z.retain_grad()
loss = torch.nn.functional.cross_entropy(z, t)
loss.backward()

flat = lambda v: v.detach().reshape(-1).tolist()
print(json.dumps({
    "loss": loss.item(),
    "a1": flat(a1), "h": flat(h), "z": flat(z),
    "softmax": flat(torch.softmax(z, 1)),
    "grad_z": flat(z.grad), "grad_h": flat(h.grad), "grad_a1": flat(a1.grad),
    "grad_W1": flat(W1.grad), "grad_b1": flat(b1.grad),
    "grad_W2": flat(W2.grad), "grad_b2": flat(b2.grad),
}, indent=1))
