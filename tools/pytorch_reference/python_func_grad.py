"""Second and third derivatives by composing torch.func.grad, pinned in
python/tests/test_autograd.py (test_func_grad_composes):

    /path/to/venv-with-torch/bin/python tools/pytorch_reference/python_func_grad.py
"""

import torch
from torch.func import grad

torch.set_default_dtype(torch.float64)
f = lambda x: x.sin() * x ** 2
x = torch.tensor(0.7)
print("d1", grad(f)(x).item())
print("d2", grad(grad(f))(x).item())
print("d3", grad(grad(grad(f)))(x).item())
g = lambda w: (w ** 3).sum() * w[0]
w = torch.tensor([1.5, -2.0])
print("hessian-vector row", grad(lambda w: grad(g)(w)[1])(w).tolist())
