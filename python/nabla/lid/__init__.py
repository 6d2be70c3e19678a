"""Backpropagation with the lid off, inline in Jupyter.

- ``with nabla.record():`` records the operations run inside it and the backward passes
  through them;
- ``nabla.draw(t)`` (or ``t.graph()``) is the graph ``t`` depends on, drawn with each node's
  value and gradient when it was recorded; Jupyter shows it as SVG;
- ``nabla.explain(loss)`` is the chain rule node by node, as text and HTML;
- ``nabla.grad_expr("apple*count*tax", apple=100, count=2, tax=1.1)`` evaluates and
  differentiates one of the textbook's expressions and draws it;
- ``nabla.lid.History`` keeps training curves and draws them as a chart.
"""

import html

from .._C import Tensor
from .._C import _lid

__all__ = ["Explanation", "Expression", "Graph", "History", "draw", "explain", "grad_expr",
           "record", "recordings"]

_RECENT = []
_KEEP = 8


class record:
    """Records what runs inside the ``with`` block: every operation's value and every
    gradient a backward pass sends. ``names`` (``{"apple": apple}``) labels tensors in the
    pictures; ``name(t, "x")`` does it later.

    >>> import nabla
    >>> x = nabla.tensor(3.0, requires_grad=True)
    >>> with nabla.record(names={"x": x}) as rec:
    ...     y = x * x
    ...     y.backward()
    >>> "9" in rec.draw(y).svg
    True
    """

    def __init__(self, names=None):
        self._names = dict(names or {})
        self.trace = None

    def __enter__(self):
        _lid.start()
        return self

    def __exit__(self, *exc):
        self.trace = _lid.finish()
        for name, tensor in self._names.items():
            self.trace.name(tensor, name)
        _RECENT.append(self)
        del _RECENT[:-_KEEP]
        return False

    def name(self, tensor, name):
        """Labels ``tensor`` as ``name`` in this recording's pictures."""
        self._names[name] = tensor
        if self.trace is not None:
            self.trace.name(tensor, name)
        return self

    def draw(self, tensor, max_nodes=200, max_values=6):
        return Graph(self._trace().svg(tensor, max_nodes, max_values))

    def explain(self):
        return Explanation(self._trace().explain())

    def _trace(self):
        if self.trace is None:
            raise RuntimeError("record: the recording is still running; use it after the "
                               "`with` block")
        return self.trace


def recordings():
    """The most recent recordings (up to 8), oldest first."""
    return list(_RECENT)


def _find(tensor, backward=False):
    for rec in reversed(_RECENT):
        if rec.trace.saw_backward(tensor) if backward else rec.trace.saw(tensor):
            return rec
    return None


class Graph:
    """A computation graph picture: Jupyter shows it (``_repr_svg_``/``_repr_html_``);
    ``svg`` is the SVG text and ``save(path)`` writes it."""

    def __init__(self, svg):
        self.svg = svg

    def _repr_svg_(self):
        return self.svg

    def _repr_html_(self):
        return f'<div class="nabla-graph">{self.svg}</div>'

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg)

    def __repr__(self):
        return f"<nabla graph: {len(self.svg)} bytes of SVG>"


class Explanation:
    """The chain rule node by node: ``str()`` is the text, Jupyter shows it as HTML."""

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text

    def __repr__(self):
        return self.text

    def _repr_html_(self):
        blocks = self.text.split("\n\n")
        head = html.escape(blocks[0])
        steps = "".join(f"<li><pre>{html.escape(b.split('] ', 1)[-1])}</pre></li>"
                        for b in blocks[1:])
        return (f'<div class="nabla-explain"><p><b>{head}</b></p>'
                f'<ol style="font-family: monospace">{steps}</ol></div>')


def draw(tensor, names=None, max_nodes=200, max_values=6):
    """The graph ``tensor`` depends on. Values and gradients show when the computation ran
    inside ``with nabla.record():`` (the latest recording that saw it); otherwise the
    structure and shapes. ``names`` labels tensors: ``{"apple": apple}``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw: expected a Tensor, got {type(tensor).__name__}")
    rec = _find(tensor)
    trace = rec.trace if rec is not None else _lid.Trace()
    for name, t in (names or {}).items():
        trace.name(t, name)
    return Graph(trace.svg(tensor, max_nodes, max_values))


def explain(loss):
    """The chain rule of the backward pass through ``loss`` (a scalar computed and
    back-propagated inside ``with nabla.record():``), node by node."""
    if isinstance(loss, Expression):
        return loss.explain()
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(loss).__name__}")
    rec = _find(loss, backward=True)
    if rec is None:
        raise RuntimeError(
            "explain: no recording saw a backward pass through this tensor; run the "
            "computation and its backward() inside `with nabla.record():`"
        )
    return rec.explain()


class Expression:
    """A textbook expression evaluated at a point: ``value``, ``grad`` (``{name: ∂/∂name}``),
    the picture (Jupyter shows it) and ``explain()``."""

    def __init__(self, native):
        self._native = native
        self.source = native.source
        self.value = native.value
        self.grad = dict(zip(native.variables, native.gradient))

    def draw(self, max_nodes=200, max_values=6):
        return Graph(self._native.svg(max_nodes, max_values))

    def explain(self):
        return Explanation(self._native.explain())

    def _repr_svg_(self):
        return self._native.svg()

    def __repr__(self):
        grads = ", ".join(f"{k}={v:g}" for k, v in self.grad.items())
        return f"{self.source} = {self.value:g}; gradient: {grads}"


def grad_expr(source, **values):
    """Evaluates ``source`` (``"apple*count*tax"``, with ``+ - * / ^``, parentheses and
    ``exp log sqrt abs sin cos tanh sigmoid relu max min``) at ``values`` and
    back-propagates through it."""
    return Expression(_lid.grad_expr(source, [(k, float(v)) for k, v in values.items()]))


class History:
    """Training curves: ``log(epoch, loss=..., accuracy=...)`` each epoch; Jupyter shows one
    panel per metric (``_repr_svg_``)."""

    def __init__(self, title="training"):
        self.title = title
        self.metrics = {}

    def log(self, step, **values):
        for name, value in values.items():
            self.metrics.setdefault(name, []).append((float(step), float(value)))
        return self

    def svg(self):
        if not self.metrics:
            raise ValueError("History: nothing logged yet")
        panels = []
        for name, points in self.metrics.items():
            panels.append((name, "epoch", name, False, [(name, points)]))
        return _lid.line_chart(self.title, panels)

    def _repr_svg_(self):
        return self.svg()

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1][1]:.4g}" for k, v in self.metrics.items())
        return f"<History {self.title}: {last}>"


def _graph(self, names=None, max_nodes=200, max_values=6):
    """The graph this tensor depends on, as :func:`nabla.draw` draws it."""
    return draw(self, names, max_nodes, max_values)


Tensor.graph = _graph
