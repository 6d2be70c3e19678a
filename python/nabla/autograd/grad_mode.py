"""``no_grad``, ``enable_grad`` and ``set_grad_enabled``: context managers and decorators that
switch the recording of operations off or on for the current thread, as PyTorch's."""

import functools

from .. import _C


class _GradMode:
    """Sets the grad mode inside a ``with`` block or a decorated function, then restores it."""

    _enabled = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if callable(func):
            # Used as a bare decorator: @nabla.no_grad
            return self(func)
        return self

    def __init__(self, func=None):
        pass

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper

    def __enter__(self):
        self._previous = _C._set_grad_enabled(self._enabled)
        return None

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._previous)
        return False


class no_grad(_GradMode):
    """Operations inside are not recorded: results have no ``grad_fn``.

    >>> import nabla
    >>> x = nabla.tensor([1.0], requires_grad=True)
    >>> with nabla.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    _enabled = False


class enable_grad(_GradMode):
    """Operations inside are recorded, even within ``no_grad``."""

    _enabled = True


class set_grad_enabled(_GradMode):
    """Switches recording to ``mode`` at once (a call) or within a ``with`` block."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        self._enabled = bool(mode)
        self._previous = _C._set_grad_enabled(self._enabled)

    def __enter__(self):
        return None

    def __call__(self, func):
        _C._set_grad_enabled(self._previous)
        mode = self._enabled

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper


is_grad_enabled = _C.is_grad_enabled
