"""``nabla.func``: PyTorch's function transforms ``grad``, ``grad_and_value``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd`` and ``hessian`` (``jacobian`` is ``jacrev``).

>>> import nabla
>>> from nabla.func import grad, hessian
>>> f = lambda x: (x ** 3).sum()
>>> grad(f)(nabla.tensor([2.0]))
tensor([12.])
>>> grad(lambda x: grad(f)(x).sum())(nabla.tensor([2.0]))
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
    """A function returning ``(gradient of func's scalar output at argument argnums, value)``.

    Transforms compose as PyTorch's do: when the argument is itself being differentiated (an
    outer ``grad``, or a tensor that requires grad), the gradient is computed with its graph,
    so ``grad(grad(f))`` is the second derivative."""

    def wrapper(*args):
        args = list(args)
        outer = args[argnums]
        nested = outer.requires_grad
        # An alias in the caller's graph when nested, else a fresh leaf.
        x = outer.view_as(outer) if nested else outer.detach().requires_grad_()
        args[argnums] = x
        with enable_grad():
            out = func(*args)
            (g,) = _C.grad(out, (x,), create_graph=nested)
        return (g, out) if nested else (g, out.detach())

    return wrapper


def grad(func, argnums=0):
    """A function returning the gradient of ``func``'s scalar output at argument ``argnums``;
    ``grad(grad(f))`` is the second derivative."""
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
