"""``nabla.func``: PyTorch's function transforms ``grad``, ``grad_and_value``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd`` and ``hessian`` (``jacobian`` is ``jacrev``).

>>> import nabla
>>> from nabla.func import grad, hessian
>>> f = lambda x: (x ** 3).sum()
>>> grad(f)(nabla.tensor([2.0]))
tensor([12.])
>>> hessian(f)(nabla.tensor([2.0]))
tensor([[12.]])
"""

from . import _C
from .autograd.grad_mode import enable_grad


def vjp(func, *primals):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` returns one gradient per primal."""
    xs = tuple(p.detach().requires_grad_() for p in primals)
    with enable_grad():
        out = func(*xs)

    def vjp_fn(cotangent):
        return _C.grad(out, xs, cotangent, retain_graph=True, allow_unused=True, materialize_grads=True)

    return out.detach(), vjp_fn


def jvp(func, primals, tangents):
    """``(func(*primals), J·tangents)`` by forward mode."""
    return _C._jvp(func, tuple(primals), tuple(tangents))


def grad_and_value(func, argnums=0):
    """A function returning ``(gradient of func's scalar output at argument argnums, value)``."""

    def wrapper(*args):
        args = list(args)
        x = args[argnums].detach().requires_grad_()
        args[argnums] = x
        with enable_grad():
            out = func(*args)
            (g,) = _C.grad(out, (x,))
        return g, out.detach()

    return wrapper


def grad(func, argnums=0):
    """A function returning the gradient of ``func``'s scalar output at argument ``argnums``."""
    inner = grad_and_value(func, argnums)
    return lambda *args: inner(*args)[0]


def jacrev(func, argnums=0):
    """A function returning the Jacobian of ``func`` at one tensor, by reverse mode."""
    if argnums != 0:
        raise NotImplementedError("jacrev: only argnums=0 is supported")
    return lambda x: _C._jacobian(func, x, False)


def jacfwd(func, argnums=0):
    """A function returning the Jacobian of ``func`` at one tensor, by forward mode."""
    if argnums != 0:
        raise NotImplementedError("jacfwd: only argnums=0 is supported")
    return lambda x: _C._jacobian(func, x, True)


jacobian = jacrev


def hessian(func, argnums=0):
    """A function returning the Hessian of ``func``'s scalar output at one tensor."""
    if argnums != 0:
        raise NotImplementedError("hessian: only argnums=0 is supported")
    return lambda x: _C._hessian(func, x)
