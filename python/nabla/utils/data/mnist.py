"""MNIST as the textbook's ``dataset.mnist.load_mnist`` returns it, read from the four IDX
files the repository ships in ``data/mnist``."""

import os

from ..._C import _io


def _default_root():
    here = os.path.dirname(os.path.abspath(__file__))
    for up in range(2, 7):
        candidate = os.path.join(here, *([".."] * up), "data", "mnist")
        if os.path.isdir(candidate):
            return os.path.normpath(candidate)
    return os.path.join("data", "mnist")


def load_mnist(root=None, normalize=True, flatten=True, one_hot_label=False):
    """``((x_train, t_train), (x_test, t_test))``: images as float32 ``[N, 784]`` (``[N, 1,
    28, 28]`` without ``flatten``) scaled to 0..1 with ``normalize`` (else 0..255), labels as
    int64 ``[N]`` (float32 ``[N, 10]`` one-hot rows with ``one_hot_label``).

    ``root`` is the folder of the files; by default ``$NABLA_MNIST``, else ``data/mnist``
    of the repository the package was installed from or of the working directory."""
    root = root or os.environ.get("NABLA_MNIST") or _default_root()
    x_train, t_train, x_test, t_test = _io.load_mnist(root, "unit" if normalize else "none")
    if not flatten:
        x_train = x_train.reshape(-1, 1, 28, 28)
        x_test = x_test.reshape(-1, 1, 28, 28)
    if one_hot_label:
        from ...nn.functional import one_hot

        t_train = one_hot(t_train, 10).float()
        t_test = one_hot(t_test, 10).float()
    return (x_train, t_train), (x_test, t_test)
