"""``optim.Optimizer``: PyTorch's interface (parameter groups, ``zero_grad``, ``step``,
``state_dict``) over nabla-nn's fused optimisers: a step is one call into Rust per parameter
group, which updates every parameter in place."""

from .._C import Tensor
from .._C import _nn
from .._C import _optim

Fused = _optim.Fused

_HYPER = ("lr", "weight_decay", "momentum", "dampening", "nesterov", "betas", "eps", "alpha")


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: subclasses name their rule (``_kind``) and defaults."""

    _kind = None

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = {}
        self.param_groups = []
        self._fused = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        self._fused.append(None)

    def _hyper(self, group):
        values = {name: group.get(name, 0.0) for name in _HYPER}
        values["nesterov"] = bool(group.get("nesterov", False))
        values["betas"] = tuple(group.get("betas", (0.9, 0.999)))
        values["eps"] = group.get("eps", 1e-8)
        values["alpha"] = group.get("alpha", 0.99)
        return values

    def _engine(self, i):
        """The fused optimiser of group ``i``, rebuilt (keeping its state) when a
        hyper-parameter other than the learning rate changed, or a parameter's memory did
        (``p.data = ...``, ``model.double()``): the fused step holds the tensors it was built
        on."""
        group = self.param_groups[i]
        hyper = self._hyper(group)
        key = tuple((k, v) for k, v in hyper.items() if k != "lr") + tuple(
            p.data_ptr() for p in group["params"]
        )
        current = self._fused[i]
        if current is not None and current[0] == key:
            return current[1]
        fused = Fused(self._kind, group["params"], hyper)
        if current is not None:
            fused.load_state(current[1].state())
        self._fused[i] = (key, fused)
        return fused

    def zero_grad(self, set_to_none=True):
        """Clears every parameter's gradient (to ``None``, or to zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    _nn.constant_(p.grad, 0.0)

    def step(self, closure=None):
        """Updates every parameter that has a gradient; with ``closure`` (which recomputes and
        returns the loss) calls it first, under grad mode, and returns its loss."""
        loss = None
        if closure is not None:
            from .. import enable_grad

            with enable_grad():
                loss = closure()
        for i, group in enumerate(self.param_groups):
            self._engine(i).step(float(group["lr"]))
        return loss

    def state_dict(self):
        """``{"state": {index: {"step": ..., buffer: ...}}, "param_groups": [...]}`` with
        parameters numbered across groups, as PyTorch's."""
        state = {}
        groups = []
        offset = 0
        for i, group in enumerate(self.param_groups):
            entry = {k: v for k, v in group.items() if k != "params"}
            entry["params"] = list(range(offset, offset + len(group["params"])))
            groups.append(entry)
            if self._fused[i] is not None:
                for name, value in self._fused[i][1].state():
                    if name == "step":
                        continue
                    index, _, buffer = name.partition(".")
                    slot = state.setdefault(offset + int(index), {})
                    slot[buffer] = value.double() if buffer == "step" else value
            offset += len(group["params"])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores a state from :meth:`state_dict` (of an optimiser of the same kind over
        parameters of the same shapes)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for own, saved in zip(self.param_groups, groups):
            if len(own["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    "of optimizer's group"
                )
        state = {int(k): v for k, v in state_dict["state"].items()}
        for i, (own, saved) in enumerate(zip(self.param_groups, groups)):
            own.update({k: v for k, v in saved.items() if k != "params"})
            entries = []
            steps = 0
            for local, index in enumerate(saved["params"]):
                for buffer, value in state.get(int(index), {}).items():
                    if buffer == "step":
                        count = int(value.item() if isinstance(value, Tensor) else value)
                        steps = max(steps, count)
                        entries.append((f"{local}.step", _count(count)))
                    else:
                        entries.append((f"{local}.{buffer}", value))
            self._fused[i] = None
            engine = self._engine(i)
            engine.load_state([("step", _count(steps))] + entries)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _count(n):
    from .. import tensor, int64

    return tensor(n, dtype=int64)
