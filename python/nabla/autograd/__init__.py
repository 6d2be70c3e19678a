"""``nabla.autograd``: ``grad``, ``backward``, ``Function``, ``gradcheck``, grad modes and
``functional`` (jacobian, hessian, vjp, jvp), with PyTorch's names and signatures."""

from .. import _C
from . import functional  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .gradcheck import GradcheckError, gradcheck  # noqa: F401

grad = _C.grad


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Runs ``backward`` from each tensor (with its gradient from ``grad_tensors``)."""
    if isinstance(tensors, _C.Tensor):
        tensors = (tensors,)
    if grad_tensors is None or isinstance(grad_tensors, _C.Tensor):
        grad_tensors = (grad_tensors,) * len(tensors)
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        keep = retain_graph if retain_graph is not None else create_graph
        keep = keep or i + 1 < len(tensors)
        t.backward(g, retain_graph=keep, create_graph=create_graph)
