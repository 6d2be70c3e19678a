"""``nabla.Size``: a tensor's shape, a tuple that prints like ``torch.Size``."""


class Size(tuple):
    """The dimensions of a tensor; compares equal to a plain tuple of the same numbers."""

    __slots__ = ()

    def __repr__(self):
        return f"nabla.Size({list(self)})"

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        n = 1
        for d in self:
            n *= d
        return n
