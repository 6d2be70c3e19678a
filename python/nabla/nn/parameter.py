"""``nn.Parameter``: a tensor that a :class:`~nabla.nn.Module` registers as trainable when it is
assigned to one of its attributes, as ``torch.nn.Parameter``."""

from .._C import Tensor
from .._C import _nn


class Parameter(Tensor):
    """A leaf tensor that requires gradients by default and shares its data with ``data``.

    >>> import nabla
    >>> w = nabla.nn.Parameter(nabla.zeros(2))
    >>> w.requires_grad, w.is_leaf
    (True, True)
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor()
        return _nn.make_parameter(cls, data, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.detach(), self.requires_grad))


class Buffer:
    """Marks a tensor assigned to a module attribute as a buffer (``torch.nn.Buffer``)."""

    def __init__(self, data, persistent=True):
        self.data = data
        self.persistent = persistent
