"""``autograd.Function``: new differentiable operations written in Python, as PyTorch's.

Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` and call
``MyFunction.apply(*args)``. ``forward`` runs with recording off on detached inputs; its
outputs get a node whose backward calls yours with the gradients of the outputs, and returns
one gradient (or ``None``) per argument of ``forward``.

>>> import nabla
>>> class Cube(nabla.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return g * 3 * x ** 2
>>> x = nabla.tensor(2.0, requires_grad=True)
>>> Cube.apply(x).backward()
>>> x.grad
tensor(12.)
"""

from .. import _C


class FunctionCtx:
    """The ``ctx`` passed to ``forward`` and ``backward``: saved tensors and any attribute."""

    def __init__(self):
        self._to_save = ()
        self._non_differentiable = ()
        self.saved_tensors = ()

    def save_for_backward(self, *tensors):
        """Keeps tensors (inputs or outputs of ``forward``) for ``backward``'s
        ``ctx.saved_tensors``."""
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors):
        """Outputs that get no gradient (indices, masks)."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """Accepted for compatibility: gradients of unused outputs are always zeros."""
        self._materialize_grads = value


class Function:
    """Base class of operations with a forward and a backward written in Python."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args):
        """Runs ``forward`` on ``args`` and records the result for ``backward``."""
        return _C._function_apply(cls, FunctionCtx(), args)
