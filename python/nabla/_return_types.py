"""The named tuples some functions return, printed as ``torch.return_types`` prints them."""

from collections import namedtuple


def _named(name):
    base = namedtuple(name, ["values", "indices"])

    def __repr__(self):
        return f"nabla.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__})


max = _named("max")
min = _named("min")
