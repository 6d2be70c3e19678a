"""``nn.utils``: gradient clipping as PyTorch's ``clip_grad_norm_`` and ``clip_grad_value_``,
on nabla-nn's implementations."""

from ..._C import Tensor
from ..._C import _nn


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Rescales the gradients together so their global L2 norm is at most ``max_norm``;
    returns the norm before clipping, as a tensor."""
    if float(norm_type) != 2.0:
        raise ValueError(f"clip_grad_norm_: only the 2-norm is supported, got {norm_type}")
    total = _nn.clip_grad_norm(_params(parameters), float(max_norm))
    if error_if_nonfinite and not abs(total) < float("inf"):
        raise RuntimeError(
            f"The total norm of order {float(norm_type)} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped."
        )
    from ... import tensor

    return tensor(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient element to ``[-clip_value, clip_value]``."""
    _nn.clip_grad_value(_params(parameters), float(clip_value))


__all__ = ["clip_grad_norm_", "clip_grad_value_"]
