"""``autograd.functional``: Jacobians, Hessians and vector products of Python functions, as
``torch.autograd.functional`` (one tensor input for ``jacobian``/``hessian``)."""

from .. import _C
from .grad_mode import enable_grad


def _as_tuple(x):
    return (x,) if isinstance(x, _C.Tensor) else tuple(x)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀ·J)``: the output and the vector-Jacobian product."""
    single = isinstance(inputs, _C.Tensor)
    xs = tuple(x.detach().requires_grad_() for x in _as_tuple(inputs))
    with enable_grad():
        out = func(*xs)
    grads = _C.grad(out, xs, v, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    out = out if create_graph else out.detach()
    return out, (grads[0] if single else grads)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J·v)``: the output and the Jacobian-vector product (forward mode)."""
    xs = _as_tuple(inputs)
    vs = _as_tuple(v) if v is not None else tuple(_ones_like(x) for x in xs)
    out, tangent = _C._jvp(func, xs, vs)
    return out, tangent


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at one tensor, of shape ``output.shape + input.shape``."""
    return _C._jacobian(func, inputs, strategy == "forward-mode")


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func`` at one tensor, of shape ``input.shape * 2``."""
    return _C._hessian(func, inputs)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H·v)`` for a scalar ``func`` of one tensor."""
    x = inputs.detach().requires_grad_()
    with enable_grad():
        out = func(x)
        (g,) = _C.grad(out, (x,), create_graph=True)
        (hv,) = _C.grad(g, (x,), v)
    return out.detach(), hv


def _ones_like(x):
    return x * 0 + 1
