"""nabla: tensors, autograd and training with PyTorch's names, on the nabla Rust library.

``import nabla as torch`` runs a script written for PyTorch's basics::

    import nabla as torch
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""

from . import _C
from ._C import *  # noqa: F401,F403
from ._C import Tensor, dtype, float32, float64, int64, float, double, long  # noqa: F401
from ._size import Size  # noqa: F401

__version__ = "0.1.0"
