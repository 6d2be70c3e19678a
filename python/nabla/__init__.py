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
from . import autograd, func  # noqa: F401
from .autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from . import nn, optim, utils, lid  # noqa: F401,E402
from .lid import draw, explain, grad_expr, record  # noqa: F401,E402
from .utils.safetensors import load_file, save_file  # noqa: F401,E402

__version__ = "0.1.0"


def _rebuild_tensor(values, shape, dtype, requires_grad):
    """Unpickles a tensor (see ``Tensor.__reduce__``)."""
    t = tensor(values, dtype=dtype).reshape(shape)
    return t.requires_grad_() if requires_grad else t


def is_tensor(obj):
    """Whether ``obj`` is a ``nabla.Tensor`` (or a subclass such as ``nn.Parameter``)."""
    return isinstance(obj, Tensor)


def _function_of(name):
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):
        return method(input, *args, **kwargs)

    function.__name__ = name
    function.__qualname__ = name
    function.__doc__ = f"``nabla.{name}(input, ...)`` is ``input.{name}(...)``."
    return function


# PyTorch's functions that are also tensor methods.
for _name in (
    "abs", "add", "amax", "amin", "argmax", "argmin", "clamp", "cos", "div", "dot", "exp",
    "flatten", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min",
    "minimum", "mm", "mul", "narrow", "neg", "numel", "permute", "pow", "reciprocal", "relu",
    "reshape", "sigmoid", "sign", "sin", "softmax", "sqrt", "square", "squeeze", "std", "sub",
    "sum", "t", "tanh", "transpose", "unsqueeze", "var",
):
    globals()[_name] = _function_of(_name)
del _name
