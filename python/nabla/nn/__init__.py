"""``nabla.nn``: modules, layers, losses, ``functional``, ``init`` and ``utils`` with
PyTorch's names and parameter naming, so state dicts match ``torch.nn``'s."""

from . import functional, init, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules
from .parameter import Buffer, Parameter

__all__ = ["Buffer", "Parameter", "functional", "init", "utils"] + list(_modules)
