"""Tensor printing in PyTorch's format: ``tensor([[1.0000, 2.5000], ...], requires_grad=True)``.

Floats that are all whole print as ``1.``; otherwise with four decimals, or in scientific
notation when the magnitudes span more than a factor 1000 or leave [1e-4, 1e8]. Columns are
right-aligned to the widest value, lines wrap at 80 characters, and tensors over 1000 elements
show their first and last three items of each dimension.
"""

import math

_LINEWIDTH = 80
_THRESHOLD = 1000
_EDGEITEMS = 3
_PRECISION = 4


class _Formatter:
    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            self.max_width = max((len(str(v)) for v in values), default=1)
            return
        finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
        if not finite:
            self.max_width = max((len(self._special(v)) for v in values), default=1)
            if any(math.isfinite(v) for v in values):
                self.max_width = max(self.max_width, 2)
            return
        self.int_mode = all(v == math.ceil(v) for v in finite)
        lo, hi = min(finite), max(finite)
        if self.int_mode:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8
        else:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        self.max_width = max(len(self.format(v)) for v in values)

    @staticmethod
    def _special(v):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return ""

    def format(self, v):
        if not self.floating:
            return str(v)
        if not math.isfinite(v):
            return self._special(v)
        if self.sci_mode:
            return f"{v:.{_PRECISION}e}"
        if self.int_mode:
            return f"{v:.0f}."
        return f"{v:.{_PRECISION}f}"

    def padded(self, v):
        return self.format(v).rjust(self.max_width)


def _flat(values):
    if isinstance(values, list):
        for v in values:
            yield from _flat(v)
    else:
        yield values


def _summarized(values, shape):
    """The nested list with only the edge items of each long dimension (None marks the gap)."""
    if not shape:
        return values
    n = shape[0]
    if n > 2 * _EDGEITEMS:
        picked = values[:_EDGEITEMS] + [None] + values[-_EDGEITEMS:]
    else:
        picked = values
    return [None if v is None else _summarized(v, shape[1:]) for v in picked]


def _render(values, ndim, indent, fmt):
    if ndim == 0:
        return fmt.format(values)
    if ndim == 1:
        items = [" ..." if v is None else fmt.padded(v) for v in values]
        per_line = max(1, (_LINEWIDTH - indent) // (fmt.max_width + 2))
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = [
        "..." if v is None else _render(v, ndim - 1, indent + 1, fmt) for v in values
    ]
    separator = "," + "\n" * (ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def tensor_repr(t, prefix="tensor("):
    """PyTorch's ``repr`` of ``t``, with ``nabla.`` in place of ``torch.``."""
    from . import float32, int64

    shape = tuple(t.shape)
    numel = t.numel()
    values = t.detach().tolist()
    floating = t.dtype.is_floating_point
    suffixes = []
    if numel == 0 and shape != (0,):
        suffixes.append(f"size={shape}")
        body = "[]"
    else:
        summarize = numel > _THRESHOLD
        shown = _summarized(values, shape) if summarize else values
        flat = [v for v in _flat(shown) if v is not None]
        fmt = _Formatter(flat, floating)
        body = _render(shown, len(shape), len(prefix), fmt)
    if t.dtype not in (float32, int64):
        suffixes.append(f"dtype={t.dtype!r}")
    grad_fn = t.grad_fn
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    text = prefix + body
    for s in suffixes:
        text += ", " + s
    return text + ")"
