"""``utils.data``: ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split`` and
``DataLoader`` with PyTorch's interface. A ``DataLoader`` over a ``TensorDataset`` gathers each
batch in one call per tensor (nabla's ``index_select``), not one per sample; shuffling is
seeded from the global generator (``nabla.manual_seed``) or a ``generator``."""

from .dataloader import DataLoader
from .dataset import Dataset, Subset, TensorDataset, random_split
from .mnist import load_mnist

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "load_mnist", "random_split"]
