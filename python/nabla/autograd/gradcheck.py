"""``gradcheck``: compares autograd's gradients with central finite differences."""

from .. import _C


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when the gradients differ (with ``raise_exception=True``)."""


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **kwargs):
    """Checks the gradients of ``func`` at ``inputs`` (float64 tensors) against finite
    differences; returns True, or raises ``GradcheckError`` naming the first entry that differs
    (returns False instead with ``raise_exception=False``).

    >>> import nabla
    >>> x = nabla.tensor([1.0, 2.0], dtype=nabla.float64, requires_grad=True)
    >>> nabla.autograd.gradcheck(lambda t: (t ** 3).sum(), (x,))
    True
    """
    if isinstance(inputs, _C.Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)

    def scalar(*xs):
        out = func(*xs)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out

    passed, message = _C._gradcheck(scalar, inputs, eps, atol, rtol)
    if not passed and raise_exception:
        raise GradcheckError(message)
    return passed
