"""``nn.functional``: PyTorch's functional forms of the layers and losses, each one call into
nabla's Rust operations (nabla-core's ops and nabla-nn's layers and losses)."""

import math

from .._C import _nn

linear = _nn.linear
conv1d = _nn.conv1d
conv2d = _nn.conv2d
conv_transpose2d = _nn.conv_transpose2d
adaptive_avg_pool2d = _nn.adaptive_avg_pool2d
sigmoid = _nn.sigmoid
tanh = _nn.tanh


def relu(input, inplace=False):
    """``max(x, 0)``; ``inplace`` is accepted and computes out of place."""
    return _nn.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _nn.leaky_relu(input, negative_slope)


def gelu(input, approximate="none"):
    """The exact GELU ``x·Φ(x)``, or with ``approximate="tanh"`` its tanh approximation."""
    if approximate == "none":
        return _nn.gelu(input)
    if approximate == "tanh":
        inner = (input + 0.044715 * input * input * input) * math.sqrt(2.0 / math.pi)
        return 0.5 * input * (1.0 + _nn.tanh(inner))
    raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")


def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim(input.ndim)
    return _nn.softmax(input, dim)


def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim(input.ndim)
    return _nn.log_softmax(input, dim)


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zeros with probability ``p``, the rest scaled by ``1/(1-p)``; the
    identity when not ``training``. Masks come from the global generator."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return _nn.dropout_mask(input, p)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Drops whole channels of ``[N, C, H, W]`` (or ``[N, C, L]``) inputs."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: expected a 3-D or 4-D input, got {input.ndim}-D of shape "
            f"{list(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    shape = list(input.shape[:2]) + [1] * (input.ndim - 2)
    return _nn.dropout_mask(input, p, shape)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    if return_indices:
        raise ValueError("max_pool2d: return_indices=True is not supported")
    return _nn.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    if divisor_override is not None:
        raise ValueError("avg_pool2d: divisor_override is not supported")
    return _nn.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    return _nn.batch_norm(input, running_mean, running_var, weight, bias, training,
                          momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    return _nn.layer_norm(input, normalized_shape, weight, bias, eps)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise ValueError("embedding: max_norm, scale_grad_by_freq and sparse are not supported")
    return _nn.embedding(input, weight, padding_idx)


def _reduce(name, loss_mean, count, reduction):
    if reduction == "mean":
        return loss_mean
    if reduction == "sum":
        return loss_mean * count
    raise ValueError(f"{name}: reduction must be 'mean' or 'sum' here, got {reduction!r}")


def _elementwise(name, per_element, reduction):
    if reduction == "none":
        return per_element
    if reduction == "mean":
        return per_element.mean()
    if reduction == "sum":
        return per_element.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of ``[N, C]`` logits against class indices (int64 ``[N]``, one fused
    op) or against class probabilities (float ``[N, C]``)."""
    if weight is not None:
        raise ValueError("cross_entropy: class weights are not supported")
    if target.is_floating_point():
        per_row = -(target * log_softmax(input, 1)).sum(1)
        if label_smoothing:
            smooth = -log_softmax(input, 1).mean(1)
            per_row = (1.0 - label_smoothing) * per_row + label_smoothing * smooth
        return _elementwise("cross_entropy", per_row, reduction)
    if input.ndim == 1:
        input = input.unsqueeze(0)
        target = target.reshape(1)
    loss = _nn.cross_entropy(input, target, label_smoothing)
    return _reduce("cross_entropy", loss, target.shape[0], reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    if weight is not None:
        raise ValueError("nll_loss: class weights are not supported")
    return _reduce("nll_loss", _nn.nll_loss(input, target), target.shape[0], reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    if reduction == "mean":
        return _nn.mse_loss(input, target)
    diff = input - target
    return _elementwise("mse_loss", diff * diff, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    if weight is not None or pos_weight is not None:
        raise ValueError(
            "binary_cross_entropy_with_logits: weight and pos_weight are not supported"
        )
    loss = _nn.binary_cross_entropy_with_logits(input, target)
    return _reduce("binary_cross_entropy_with_logits", loss, input.numel(), reduction)


def one_hot(tensor, num_classes=-1):
    """``[..., num_classes]`` int64 rows with a 1 at each index."""
    if num_classes < 0:
        num_classes = int(tensor.max().item()) + 1
    return _nn.one_hot(tensor, num_classes)
