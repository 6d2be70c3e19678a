"""Backpropagation with the lid off, inline in Jupyter.

- ``with nabla.record():`` records the operations run inside it and the backward passes
  through them;
- ``nabla.draw(t)`` (or ``t.graph()``) is the graph ``t`` depends on, drawn with each node's
  value and gradient when it was recorded; Jupyter shows it as SVG;
- ``nabla.explain(loss)`` is the chain rule node by node, as text and HTML;
- ``nabla.grad_expr("apple*count*tax", apple=100, count=2, tax=1.1)`` evaluates and
  differentiates one of the textbook's expressions and draws it;
- ``nabla.lid.History`` keeps training curves and draws them as a chart;
- ``nabla.lid.Monitor(model)`` watches a model's layers while a plain Python loop trains it
  (histograms of outputs, weights and gradients, saturated and dead units, gradient norms per
  layer with the vanishing/exploding alarm) and shows all of it inline with the curves.
"""

import html
import math
import warnings

from .._C import Tensor, is_grad_enabled
from .._C import _lid

__all__ = ["Explanation", "Expression", "Graph", "History", "Monitor", "draw", "explain",
           "grad_expr", "record", "recordings"]

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


def _named(names, params):
    """``{name: tensor}`` from ``names`` and ``params`` (a dict like
    ``dict(model.named_parameters())``, or a module, whose parameters are then named
    ``fc1.weight``)."""
    from ..nn import Module

    out = dict(names or {})
    if isinstance(params, Module):
        params = dict(params.named_parameters())
    elif params is not None and not isinstance(params, dict):
        raise TypeError("params must be a dict of name to Tensor (dict(model.named_parameters()))"
                        f" or an nn.Module, not {type(params).__name__}")
    for name, t in (params or {}).items():
        if not isinstance(t, Tensor):
            raise TypeError(f"params[{name!r}] must be a Tensor, not {type(t).__name__}")
        out[name] = t
    return out


def draw(tensor, names=None, max_nodes=200, max_values=6, params=None):
    """The graph ``tensor`` depends on. Values and gradients show when the computation ran
    inside ``with nabla.record():`` (the latest recording that saw it); otherwise the
    structure and shapes. ``names`` labels tensors: ``{"apple": apple}``; ``params`` labels
    parameters as torchviz's ``make_dot`` does: ``params=dict(model.named_parameters())``
    (or the model itself)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw: expected a Tensor, got {type(tensor).__name__}")
    rec = _find(tensor)
    trace = rec.trace if rec is not None else _lid.Trace()
    for name, t in _named(names, params).items():
        trace.name(t, name)
    return Graph(trace.svg(tensor, max_nodes, max_values))


def explain(loss, params=None):
    """The chain rule of the backward pass through ``loss`` (a scalar computed and
    back-propagated inside ``with nabla.record():``), node by node. ``params`` names the
    parameters in it (``fc1.weight`` instead of ``leaf``): a dict as torchviz's ``make_dot``
    takes, ``params=dict(model.named_parameters())``, or the model itself."""
    if isinstance(loss, Expression):
        return loss.explain()
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(loss).__name__}")
    names = _named(None, params)
    rec = _find(loss, backward=True)
    if rec is None:
        raise RuntimeError(
            "explain: no recording saw a backward pass through this tensor; run the "
            "computation and its backward() inside `with nabla.record():`"
        )
    for name, t in names.items():
        rec.name(t, name)
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

    def _repr_html_(self):
        return f'<div class="nabla-history">{self.svg()}</div>' if self.metrics else ""

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1][1]:.4g}" for k, v in self.metrics.items())
        return f"<History {self.title}: {last}>"


def _norm(grads):
    """The L2 norm over a layer's parameter gradients (a missing one counts as 0)."""
    return math.sqrt(sum(float((g.detach().double() ** 2).sum()) for g in grads if g is not None))


class Monitor:
    """Per-layer health of a model trained in a plain Python loop, shown inline in Jupyter.

    Forward hooks on the model's layers (its modules without submodules) keep each layer's
    latest output of a training forward pass (training mode, gradients enabled; an evaluation
    under ``no_grad`` is not recorded). ``step()`` after ``loss.backward()`` keeps each layer's
    gradient norm (over its parameters' ``.grad``) and checks them: the first layer's norm
    over the last's below 1e-3 is vanishing, above 1e3 exploding, a NaN or infinity is
    non-finite. ``epoch(loss=..., accuracy=...)`` at the end of an epoch records every layer
    (histograms of outputs, weights and weight gradients; the saturated fraction of sigmoid and
    tanh outputs, the dead fraction of ReLU units), warns once per kind of alarm that went off
    during the epoch's steps, and logs the metrics in ``history``. Jupyter shows the monitor
    (``_repr_html_``) as a table of the layers, the alarms, the curves and the charts.

    >>> import nabla
    >>> from nabla import nn
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
    >>> monitor = nabla.lid.Monitor(model)
    >>> loss = model(nabla.ones(8, 2)).pow(2).mean()
    >>> loss.backward()
    >>> monitor.step()
    >>> monitor.epoch(loss=loss.item())
    >>> [row[0] for row in monitor.layers()]
    ['0 (Linear)', '1 (Sigmoid)', '2 (Linear)']
    """

    def __init__(self, model, title="training"):
        from ..nn import Module

        if not isinstance(model, Module):
            raise TypeError(f"Monitor: expected an nn.Module, got {type(model).__name__}")
        self.model = model
        self.history = History(title)
        self.alarms = []
        layers = [(name or type(m).__name__, m) for name, m in model.named_modules()
                  if not any(True for _ in m.children())]
        self._modules = [m for _, m in layers]
        self._params = [list(m.parameters(recurse=False)) for m in self._modules]
        self._native = _lid.Diagnostics(
            [(name, type(m).__name__, bool(p)) for (name, m), p in zip(layers, self._params)])
        self._outputs = [None] * len(layers)
        self._samples = 0
        self._grads = [None] * len(layers)
        self._epoch = 0
        self._step = 0
        self._handles = [m.register_forward_hook(self._hook(i))
                         for i, m in enumerate(self._modules)]

    def _hook(self, index):
        def keep(module, args, output):
            if not (module.training and is_grad_enabled()):
                return
            if isinstance(output, (tuple, list)):
                output = output[0]
            if isinstance(output, Tensor):
                self._outputs[index] = output.detach()
                if output.ndim > 0:
                    self._samples = output.shape[0]
        return keep

    def step(self):
        """Records this step's gradient norm per layer with parameters (call it after
        ``loss.backward()``); returns nothing, keeps any alarm for the epoch's summary."""
        self._step += 1
        norms = []
        for i, params in enumerate(self._params):
            if not params:
                continue
            grads = [p.grad for p in params]
            self._grads[i] = grads
            norms.append(_norm(grads))
        self._native.record_norms(self._epoch + 1, self._step, norms)

    def epoch(self, **metrics):
        """Closes an epoch: records every layer from its latest training output, its weights
        and the latest step's gradients, warns about the epoch's gradient alarms and logs
        ``metrics`` (``loss=0.3, accuracy=0.9``) in ``history``."""
        self._epoch += 1
        probes = []
        for i, (module, params) in enumerate(zip(self._modules, self._params)):
            weight = getattr(module, "weight", None)
            grads = self._grads[i]
            weight_grad = None
            if weight is not None and grads is not None:
                weight_grad = next((g for p, g in zip(params, grads) if p is weight), None)
            norm = None if grads is None else _norm(grads)
            probes.append((i, self._outputs[i], weight if weight_grad is not None else None,
                           weight_grad, norm))
        loss = float(metrics.get("loss", math.nan))
        self._native.snapshot(self._epoch, loss, self._samples, probes)
        for summary in self._native.finish_epoch(self._epoch):
            self.alarms.append(summary)
            warnings.warn(summary, RuntimeWarning, stacklevel=2)
        if metrics:
            self.history.log(self._epoch, **metrics)
        self._step = 0

    def layers(self):
        """The latest epoch's statistics per layer: ``(label, output mean, output std,
        saturated fraction or None, dead fraction or None, gradient norm or None)``."""
        return self._native.latest()

    def charts(self):
        """The diagnostics charts as ``(title, svg)`` pairs."""
        return self._native.charts()

    def remove(self):
        """Takes the hooks off the model."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _repr_html_(self):
        def cell(value, percent=False):
            if value is None:
                return "<td></td>"
            return f"<td>{100 * value:.1f}%</td>" if percent else f"<td>{value:.4g}</td>"

        rows = "".join(
            f"<tr><td>{html.escape(label)}</td>{cell(mean)}{cell(std)}{cell(sat, True)}"
            f"{cell(dead, True)}{cell(norm)}</tr>"
            for label, mean, std, sat, dead, norm in self.layers())
        parts = [f"<h4>{html.escape(self.history.title)}: epoch {self._epoch}</h4>"]
        if rows:
            parts.append("<table><tr><th>layer</th><th>output mean</th><th>output std</th>"
                         "<th>saturated</th><th>dead</th><th>gradient norm</th></tr>"
                         f"{rows}</table>")
        parts += [f'<p style="color:#b00">{html.escape(a)}</p>' for a in self.alarms]
        if self.history.metrics:
            parts.append(self.history.svg())
        parts += [svg for _, svg in self.charts()]
        return '<div class="nabla-monitor">' + "".join(parts) + "</div>"

    def __repr__(self):
        return (f"<Monitor {self.history.title}: {len(self._modules)} layers, epoch "
                f"{self._epoch}, {len(self.alarms)} alarms>")


def _graph(self, names=None, max_nodes=200, max_values=6, params=None):
    """The graph this tensor depends on, as :func:`nabla.draw` draws it."""
    return draw(self, names, max_nodes, max_values, params)


Tensor.graph = _graph
